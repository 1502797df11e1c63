using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentAspire.Contracts;
using AppHost.Dashboard;

namespace AppHost.Tests.WholeApp;

/// <summary>
/// A rollout driven through RolloutApi's HTTP API with the real gateway and agents: the observed traffic share
/// follows each step, promotion hands the stable track the new revision, and an abort under load stops canary
/// traffic as soon as the call returns.
/// </summary>
[Collection(WholeAppCollection.Name)]
public sealed class RolloutTests(AppFixture fixture)
{
    private static readonly string Agent = ResourceNames.DefaultAgent;
    private static readonly string AgentPath = $"/api/agents/{ResourceNames.DefaultAgent}";

    [Fact]
    public async Task A_staged_rollout_moves_observed_traffic_step_by_step_then_promotes_and_undo_restores_stable()
    {
        using var api = fixture.CreateOperatorClient();
        using var gateway = fixture.CreateGatewayClient();
        var revision = await CreateRevisionAsync(api, "1.1.0");
        int[] weights = [100, 1_000, 5_000, 10_000];
        var steps = weights.SelectMany(w => new object[] { new { setWeight = w }, new { pause = new { } } }).ToArray();

        var started = await PostAsync(api, $"{AgentPath}/rollouts", new { revision, steps, reason = "whole-app test" });
        Assert.Equal(HttpStatusCode.Created, started.Status);

        for (var i = 0; i < weights.Length; i++)
        {
            // Each pause holds the rollout at its weight until promoted.
            await WaitForRolloutAsync(api, r => r.GetProperty("currentStepIndex").GetInt32() == 2 * i + 1, $"step {2 * i + 1}");
            await RoutingTests.WaitForGatewayWeightAsync(gateway, weights[i]);

            const int requests = 200;
            var canary = await RoutingTests.CountCanaryAsync(gateway, requests);
            var expected = requests * weights[i] / 10_000;
            Assert.InRange(canary, Math.Max(0, expected - 1), Math.Min(requests, expected + 1));

            Assert.Equal(HttpStatusCode.OK, (await PostAsync(api, $"{AgentPath}/rollout/promote", new { })).Status);
        }

        var done = await WaitForRolloutAsync(api, r => r.GetProperty("state").GetString() == "Promoted", "promotion");
        Assert.Equal(0, done.GetProperty("weight").GetInt32());
        await RoutingTests.WaitForGatewayWeightAsync(gateway, 0);
        var table = await api.GetFromJsonAsync<RoutingTable>(RolloutApiPaths.Routing).WaitAsync(AppFixture.RequestDeadline);
        Assert.Equal("1.1.0", table!.Find(Agent)!.Stable.Version);

        // Undo re-applies the previous stable revision, which also leaves the app as the other tests expect it.
        var undone = await PostAsync(api, $"{AgentPath}/undo", new { reason = "whole-app test cleanup" });
        Assert.Equal(HttpStatusCode.OK, undone.Status);
        table = await api.GetFromJsonAsync<RoutingTable>(RolloutApiPaths.Routing).WaitAsync(AppFixture.RequestDeadline);
        Assert.Equal("1.0.0", table!.Find(Agent)!.Stable.Version);
    }

    [Fact]
    public async Task After_an_abort_under_load_returns_no_request_reaches_the_canary()
    {
        using var api = fixture.CreateOperatorClient();
        using var gateway = fixture.CreateGatewayClient();
        var revision = await CreateRevisionAsync(api, "1.1.0");
        var started = await PostAsync(api, $"{AgentPath}/rollouts",
            new { revision, steps = new object[] { new { setWeight = 5_000 }, new { pause = new { } } } });
        Assert.Equal(HttpStatusCode.Created, started.Status);
        await RoutingTests.WaitForGatewayWeightAsync(gateway, 5_000);

        // Four clients keep sending while the abort happens; every response is stamped with when its request left.
        var clock = Stopwatch.StartNew();
        var served = new ConcurrentBag<(TimeSpan SentAt, HttpStatusCode Status, string? Track)>();
        using var stopLoad = new CancellationTokenSource();
        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stopLoad.IsCancellationRequested)
            {
                var sentAt = clock.Elapsed;
                using var response = await WorkItems.SendAsync(gateway, forcedTrack: null);
                served.Add((sentAt, response.StatusCode, WholeAppTests.Header(response, AgentHeaders.Track)));
            }
        })).ToArray();

        await WaitUntilAsync(() => served.Count(s => s.Track == Tracks.Canary) >= 20, "canary traffic under load");
        var aborted = await PostAsync(api, $"{AgentPath}/rollout/abort", new { reason = "whole-app abort under load" });
        var abortReturnedAt = clock.Elapsed;
        Assert.Equal(HttpStatusCode.OK, aborted.Status);
        Assert.Equal("Aborted", aborted.Body.GetProperty("state").GetString());

        await WaitUntilAsync(() => served.Count(s => s.SentAt > abortReturnedAt) >= 200, "traffic after the abort");
        await stopLoad.CancelAsync();
        await Task.WhenAll(load).WaitAsync(AppFixture.RequestDeadline);

        var after = served.Where(s => s.SentAt > abortReturnedAt).ToList();
        Assert.True(after.Count >= 200);
        // Every response of the load, before and after the abort, succeeded; after it, the agent that answered was stable.
        Assert.All(served, s => Assert.Equal(HttpStatusCode.OK, s.Status));
        Assert.All(after, s => Assert.Equal(Tracks.Stable, s.Track));
        Assert.Equal(0, (await RoutingTests.GetAppliedRoutingAsync(gateway)).GetProperty("weight").GetInt32());
    }

    [Fact]
    public async Task The_dashboard_buttons_promote_and_abort_through_RolloutApi()
    {
        using var api = fixture.CreateOperatorClient();
        using var gateway = fixture.CreateGatewayClient();
        using var deadline = new CancellationTokenSource(AppFixture.RequestDeadline);
        var revision = await CreateRevisionAsync(api, "1.1.0");
        var steps = new object[] { new { pause = new { } }, new { setWeight = 2_000 }, new { pause = new { } } };
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(api, $"{AgentPath}/rollouts", new { revision, steps })).Status);
        try
        {
            await WaitForRolloutAsync(api, r => r.GetProperty("currentStepIndex").GetInt32() == 0, "the first pause");

            var promoted = await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.AgentCanary, DashboardCommands.Promote, deadline.Token);
            Assert.True(promoted.Success, promoted.Message);
            await RoutingTests.WaitForGatewayWeightAsync(gateway, 2_000);

            var aborted = await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.AgentStable, DashboardCommands.Abort, deadline.Token);
            Assert.True(aborted.Success, aborted.Message);
            var rollout = await WaitForRolloutAsync(api, r => r.GetProperty("state").GetString() == "Aborted", "Aborted");
            Assert.Equal(0, rollout.GetProperty("weight").GetInt32());
            await RoutingTests.WaitForGatewayWeightAsync(gateway, 0);
        }
        finally
        {
            // Leave no active rollout behind for the other tests, whatever failed above.
            using var cleanup = await api.PostAsJsonAsync($"{AgentPath}/rollout/abort", new { reason = "test cleanup" });
        }
    }

    /// <summary>The revision for <paramref name="version"/>: revisions are immutable, so an earlier test's is reused.</summary>
    internal static async Task<int> CreateRevisionAsync(HttpClient api, string version)
    {
        var revisions = await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/revisions").WaitAsync(AppFixture.RequestDeadline);
        foreach (var existing in revisions.EnumerateArray())
        {
            if (existing.GetProperty("version").GetString() == version)
            {
                return existing.GetProperty("number").GetInt32();
            }
        }

        var created = await PostAsync(api, $"{AgentPath}/revisions", new { version, imageTag = version, reason = "whole-app test" });
        Assert.Equal(HttpStatusCode.Created, created.Status);
        return created.Body.GetProperty("number").GetInt32();
    }

    internal static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient api, string path, object body)
    {
        using var response = await api.PostAsJsonAsync(path, body).WaitAsync(AppFixture.RequestDeadline);
        var text = await response.Content.ReadAsStringAsync();
        var json = string.IsNullOrEmpty(text) ? default : JsonDocument.Parse(text).RootElement.Clone();
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {text}");
        return (response.StatusCode, json);
    }

    internal static async Task<JsonElement> WaitForRolloutAsync(HttpClient api, Func<JsonElement, bool> condition, string what)
    {
        JsonElement rollout = default;
        await RoutingTests.WaitUntilAsync(async () =>
        {
            rollout = await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/rollout").WaitAsync(AppFixture.RequestDeadline);
            return condition(rollout);
        }, $"the rollout to reach {what}");
        return rollout;
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what) =>
        RoutingTests.WaitUntilAsync(() => Task.FromResult(condition()), what);
}
