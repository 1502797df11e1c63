using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Spectre.Console.Testing;

namespace AgentAspire.Cli.Tests;

/// <summary>What the CLI prints for a frame, its YAML, and its errors, without a server.</summary>
public sealed class RenderingTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-11-30T10:00:30Z", System.Globalization.CultureInfo.InvariantCulture);

    private const string Frame = """
        {"sequence":7,"at":"2026-11-30T10:00:30Z",
         "agent":{"name":"agent-worker","stableRevision":{"number":1,"version":"1.0.0","imageTag":"1.0.0"},
                  "route":{"agent":"agent-worker","weight":1000,"revision":9},"activeRolloutId":3},
         "rollout":{"id":3,"agent":"agent-worker","state":"Paused","hold":null,
                    "fromRevision":{"number":1,"version":"1.0.0","imageTag":"1.0.0"},
                    "toRevision":{"number":2,"version":"1.1.0","imageTag":"1.1.0"},
                    "currentStepIndex":1,"currentStep":{"pause":{"durationSeconds":60}},"stepCount":3,"weight":1000,
                    "stepStartedAt":"2026-11-30T10:00:00Z","pauseEndsAt":"2026-11-30T10:01:00Z","nextAction":"wait","message":"in step 1",
                    "version":5,"createdBy":"operator","completedAt":null,
                    "steps":[{"setWeight":1000},{"pause":{"durationSeconds":60}},{"analysis":{}}],
                    "lastAnalysis":{"stepIndex":0,"provider":"pass","verdict":"Pass","summary":"all good","at":"2026-11-30T09:59:00Z"}},
         "traffic":{"windowSeconds":10,"gateways":1,"weight":1000,
                    "stable":{"track":"stable","version":"1.0.0","requests":90,"requestsPerSecond":9,"errors":0,"errorRate":0,"p50":1.5,"p95":4,"p99":9.25},
                    "canary":{"track":"canary","version":"1.1.0","requests":10,"requestsPerSecond":1,"errors":1,"errorRate":0.1,"p50":2,"p95":null,"p99":null}},
         "trafficError":null}
        """;

    [Fact]
    public void A_frame_renders_as_a_tree_with_the_current_step_weights_timer_analysis_and_both_tracks()
    {
        var console = new TestConsole().Width(120);
        console.Write(RolloutView.Render(JsonDocument.Parse(Frame).RootElement, Now));
        var lines = console.Lines.Select(l => l.TrimEnd()).ToList();

        Assert.Contains(lines, l => l.StartsWith("Status:", StringComparison.Ordinal) && l.Contains("Paused", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Step:", StringComparison.Ordinal) && l.EndsWith("1/3: pause 60s", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Time:", StringComparison.Ordinal) && l.EndsWith("30s in step, pause ends in 30s", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("ActualWeight:", StringComparison.Ordinal) && l.EndsWith("10%", StringComparison.Ordinal));
        Assert.Contains("├── ✔ 0. setWeight 10%", lines);
        Assert.Contains("├── ► 1. pause 60s", lines);
        Assert.Contains("├── ◌ 2. analysis", lines);
        Assert.Contains("└── ◌ promotion", lines);
        Assert.Contains(lines, l => l.Contains("Analysis: Pass at step 0 (pass): all good", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("stable", StringComparison.Ordinal) && l.Contains("9.25", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("canary", StringComparison.Ordinal) && l.Contains("10%", StringComparison.Ordinal) && l.Contains('—'));
    }

    [Fact]
    public void Analysis_runs_render_one_line_each_with_state_and_counts()
    {
        var runs = JsonDocument.Parse("""
            {"agent":"agent-worker","rolloutId":3,"runs":[{"id":7,"rolloutId":3,"kind":"Background","stepIndex":null,"template":"default",
             "templateVersion":0,"state":"Fail","summary":"1 failed measurement(s)",
             "counts":{"measurements":4,"pass":0,"fail":1,"inconclusive":3,"consecutiveInconclusive":0},"measurements":[]}]}
            """).RootElement;
        var console = new TestConsole().Width(160);
        console.Write(RolloutView.Render(JsonDocument.Parse(Frame).RootElement, Now, runs));

        Assert.Contains(console.Lines, l => l.Contains("run #7 default (background): Fail 4 measurement(s), 0 pass / 1 fail / 3 inconclusive 1 failed measurement(s)", StringComparison.Ordinal));
    }

    [Fact]
    public void Yaml_quotes_every_string_and_nests_objects_and_lists()
    {
        var yaml = Json.ToYaml(JsonDocument.Parse("""{"a":"yes","n":1.5,"z":null,"t":true,"list":[{"x":"1","y":[]},"s"],"o":{},"we ird":"+01:00\n"}""").RootElement);
        Assert.Equal(
            "a: \"yes\"\nn: 1.5\nz: null\nt: true\nlist:\n- x: \"1\"\n  y: []\n- \"s\"\no: {}\n\"we ird\": \"+01:00\\n\"\n",
            yaml);
    }

    [Fact]
    public async Task An_unreachable_server_is_an_error_with_the_address_and_a_non_zero_exit()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now

        var console = new TestConsole().Width(200);
        var code = await new CliApp(console, _ => null, TimeProvider.System).RunAsync(["list", "--server", $"http://127.0.0.1:{port}", "--key", "k"], CancellationToken.None);
        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains($"cannot reach RolloutApi at http://127.0.0.1:{port}/", console.Output, StringComparison.Ordinal);

        var status = await new CliApp(console, _ => null, TimeProvider.System).RunAsync(["status", "a", "--server", $"http://127.0.0.1:{port}"], CancellationToken.None);
        Assert.Equal(ExitCodes.Unknown, status);
    }

    [Fact]
    public async Task Bad_arguments_are_refused_before_any_call()
    {
        var console = new TestConsole().Width(200);
        var cli = new CliApp(console, name => name == CliApp.ServerVariable ? "not a url" : null, TimeProvider.System);

        Assert.NotEqual(0, await cli.RunAsync(["status", "a", "--timeout", "soon"], CancellationToken.None));
        Assert.Contains("'soon' is not a duration", console.Output, StringComparison.Ordinal);
        Assert.NotEqual(0, await cli.RunAsync(["list", "-o", "xml"], CancellationToken.None));
        Assert.Equal(ExitCodes.Failed, await cli.RunAsync(["list"], CancellationToken.None));
        Assert.Contains("--server must be an http(s) address, not 'not a url'", console.Output, StringComparison.Ordinal);
    }
}
