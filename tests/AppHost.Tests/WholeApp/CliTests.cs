using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentAspire.Cli;
using AgentAspire.Contracts;
using Spectre.Console.Testing;

namespace AppHost.Tests.WholeApp;

/// <summary>
/// The <c>agentaspire</c> CLI against the running app: exit codes of promote, abort, retry, undo and status, what
/// <c>get rollout --watch</c> shows as the rollout moves (through Spectre's test console), problem details on refusals,
/// and <c>status</c> as a real process gating a pipeline.
/// </summary>
[Collection(WholeAppCollection.Name)]
public sealed class CliTests(AppFixture fixture)
{
    private static readonly string Agent = ResourceNames.DefaultAgent;
    private static readonly string AgentPath = $"/api/agents/{ResourceNames.DefaultAgent}";
    private const string Steps = """[{"setWeight":1000},{"pause":{}},{"analysis":{}},{"setWeight":5000},{"pause":{}}]""";

    [Fact]
    public async Task Promote_abort_retry_undo_and_status_exit_as_documented_and_watch_follows_the_rollout()
    {
        using var api = fixture.CreateOperatorClient();
        using var gateway = fixture.CreateGatewayClient();
        var revision = await RolloutPageTests.EnsureRevisionAsync(api, "1.1.0");
        try
        {
            using var started = await api.PostAsJsonAsync($"{AgentPath}/rollouts", new { revision, steps = JsonDocument.Parse(Steps).RootElement });
            Assert.Equal(HttpStatusCode.Created, started.StatusCode);

            // --watch: a live view that redraws from the stream while the rollout moves.
            var watchConsole = new TestConsole().Width(140).Height(60);
            using var stopWatch = new CancellationTokenSource();
            var watch = Cli(watchConsole).RunAsync([.. Connection(fixture.OperatorKey), "get", "rollout", Agent, "--watch"], stopWatch.Token);
            await WaitForOutputAsync(watchConsole, "1/5: pause until promoted", "ActualWeight:  10%");

            var promote = await RunAsync(fixture.OperatorKey, "promote", Agent);
            Assert.Equal(ExitCodes.Ok, promote.Code);
            Assert.Contains("promote: rollout #", promote.Output, StringComparison.Ordinal);
            await WaitForOutputAsync(watchConsole, "4/5: pause until promoted", "ActualWeight:  50%");
            Assert.Equal(4, (await RolloutAsync(api)).GetProperty("currentStepIndex").GetInt32());
            await RoutingTests.WaitForGatewayWeightAsync(gateway, 5_000);

            Assert.Equal(ExitCodes.Timeout, (await RunAsync(fixture.OperatorKey, "status", Agent, "--timeout", "2s")).Code);

            Assert.Equal(ExitCodes.Ok, (await RunAsync(fixture.OperatorKey, "abort", Agent, "--reason", "cli test")).Code);
            await RoutingTests.WaitForGatewayWeightAsync(gateway, 0);
            Assert.Equal(0, await RoutingTests.CountCanaryAsync(gateway, 50));
            var aborted = await RunAsync(fixture.OperatorKey, "status", Agent);
            Assert.Equal(ExitCodes.Failed, aborted.Code);
            Assert.Contains("Aborted", aborted.Output, StringComparison.Ordinal);
            await WaitForOutputAsync(watchConsole, "✖ Aborted");
            await stopWatch.CancelAsync();
            Assert.Equal(ExitCodes.Ok, await watch.WaitAsync(AppFixture.RequestDeadline));

            // Abort is idempotent; a refused call prints the problem detail and exits non-zero.
            Assert.Equal(ExitCodes.Ok, (await RunAsync(fixture.OperatorKey, "abort", Agent)).Code);
            var refused = await RunAsync(fixture.OperatorKey, "pause", Agent);
            Assert.Equal(ExitCodes.Failed, refused.Code);
            Assert.Contains("HTTP 409", refused.Output, StringComparison.Ordinal);
            Assert.Contains("only an active rollout can be paused", refused.Output, StringComparison.Ordinal);

            Assert.Equal(ExitCodes.Ok, (await RunAsync(fixture.OperatorKey, "retry", Agent)).Code);
            Assert.Equal(ExitCodes.Ok, (await RunAsync(fixture.OperatorKey, "promote", Agent, "--full")).Code);
            Assert.Equal(ExitCodes.Ok, (await RunAsync(fixture.OperatorKey, "status", Agent, "--timeout", "60s")).Code);
            Assert.Equal("1.1.0", await StableVersionAsync(api));

            var seeded = await RolloutPageTests.EnsureRevisionAsync(api, "1.0.0");
            Assert.Equal(ExitCodes.Ok, (await RunAsync(fixture.OperatorKey, "undo", Agent, "--to-revision", seeded.ToString(System.Globalization.CultureInfo.InvariantCulture))).Code);
            Assert.Equal("1.0.0", await StableVersionAsync(api));
            Assert.Equal(ExitCodes.Ok, (await RunAsync(fixture.OperatorKey, "status", Agent)).Code);

            // Reads: -o json and -o yaml carry the same state; a viewer reads but cannot act.
            var json = await RunAsync(fixture.ViewerKey, "get", "rollout", Agent, "-o", "json");
            Assert.Equal(ExitCodes.Ok, json.Code);
            Assert.Equal("RolledBack", JsonDocument.Parse(json.Output).RootElement.GetProperty("rollout").GetProperty("state").GetString());
            var yaml = await RunAsync(fixture.ViewerKey, "get", "rollout", Agent, "-o", "yaml");
            Assert.Contains("state: \"RolledBack\"", yaml.Output, StringComparison.Ordinal);
            var forbidden = await RunAsync(fixture.ViewerKey, "pause", Agent);
            Assert.Equal(ExitCodes.Failed, forbidden.Code);
            Assert.Contains("HTTP 403", forbidden.Output, StringComparison.Ordinal);
        }
        finally
        {
            await RolloutPageTests.LeaveAsFoundAsync(api);
        }
    }

    [Fact]
    public async Task Status_as_a_process_exits_2_on_timeout_and_1_when_the_rollout_is_aborted()
    {
        using var api = fixture.CreateOperatorClient();
        var revision = await RolloutPageTests.EnsureRevisionAsync(api, "1.1.0");
        try
        {
            using var started = await api.PostAsJsonAsync($"{AgentPath}/rollouts", new { revision, steps = JsonDocument.Parse(Steps).RootElement });
            Assert.Equal(HttpStatusCode.Created, started.StatusCode);

            var (timedOut, _) = await RunProcessAsync(["status", Agent, "--timeout", "1s"], whileRunning: null);
            Assert.Equal(ExitCodes.Timeout, timedOut);

            // A pipeline waiting on the rollout; an operator aborts it meanwhile.
            var (aborted, output) = await RunProcessAsync(["status", Agent, "--timeout", "60s"], whileRunning: async () =>
            {
                using var response = await api.PostAsJsonAsync($"{AgentPath}/rollout/abort", new { reason = "cli process test" });
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            });
            Assert.Equal(ExitCodes.Failed, aborted);
            Assert.Contains("Aborted", output, StringComparison.Ordinal);
        }
        finally
        {
            await RolloutPageTests.LeaveAsFoundAsync(api);
        }
    }

    private CliApp Cli(TestConsole console) => new(console, _ => null, TimeProvider.System);

    private string[] Connection(string key) => ["--server", fixture.App.GetEndpoint(ResourceNames.RolloutApi, "http").ToString(), "--key", key];

    private async Task<(int Code, string Output)> RunAsync(string key, params string[] args)
    {
        var console = new TestConsole().Width(140);
        using var deadline = new CancellationTokenSource(AppFixture.RequestDeadline * 3);
        var code = await Cli(console).RunAsync([.. Connection(key), .. args], deadline.Token);
        return (code, console.Output);
    }

    /// <summary>Runs the built <c>agentaspire</c> as its own process, with the server and key in environment variables.</summary>
    private async Task<(int Code, string Output)> RunProcessAsync(string[] args, Func<Task>? whileRunning)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "agentaspire.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment[CliApp.ServerVariable] = fixture.App.GetEndpoint(ResourceNames.RolloutApi, "http").ToString();
        start.Environment[CliApp.KeyVariable] = fixture.OperatorKey;
        var output = new System.Text.StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string Output() { lock (output) { return output.ToString(); } }

        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            if (whileRunning is not null)
            {
                // Act once the process follows the rollout: it prints a progress line from its first frame.
                await RoutingTests.WaitUntilAsync(() => Task.FromResult(Output().Contains("rollout #", StringComparison.Ordinal)),
                    "the status process to print the rollout's progress");
                await whileRunning();
            }

            await process.WaitForExitAsync(deadline.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }

        return (process.ExitCode, Output());
    }

    private static Task WaitForOutputAsync(TestConsole console, params string[] texts) =>
        RoutingTests.WaitUntilAsync(() => Task.FromResult(texts.All(t => console.Output.Contains(t, StringComparison.Ordinal))),
            $"the watch output to show {string.Join(" and ", texts)}");

    private static async Task<JsonElement> RolloutAsync(HttpClient api) =>
        await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/rollout").WaitAsync(AppFixture.RequestDeadline);

    private static async Task<string> StableVersionAsync(HttpClient api) =>
        (await api.GetFromJsonAsync<RoutingTable>(RolloutApiPaths.Routing).WaitAsync(AppFixture.RequestDeadline))!.Find(Agent)!.Stable.Version;
}
