using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentAspire.Contracts;

namespace AppHost.Tests.WholeApp;

/// <summary>
/// Remote flags end to end: RolloutApi's flag set reaches both agent tracks over their streams, a kill switch flips
/// the agents' behaviour under load within a deadline, and agents keep their last-known flags — across their own
/// restart — while RolloutApi is down.
/// </summary>
[Collection(WholeAppCollection.Name)]
public sealed class FlagTests(AppFixture fixture)
{
    private const string Flag = "EnrichedOutput";
    internal const string Enriched = "enriched";
    internal const string Basic = "basic";
    private static readonly string FlagsPath = $"/api/agents/{ResourceNames.DefaultAgent}/flags";
    private static readonly TimeSpan KillDeadline = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_kill_switch_turns_the_behaviour_off_on_every_later_response_under_load()
    {
        using var api = fixture.CreateOperatorClient();
        using var gateway = fixture.CreateGatewayClient();
        await fixture.AllowForcedCanaryAsync();
        await EnableFlagEverywhereAsync(api);
        try
        {
            await WaitForBehaviourAsync(gateway, Tracks.Stable, Enriched);
            await WaitForBehaviourAsync(gateway, Tracks.Canary, Enriched);

            var clock = Stopwatch.StartNew();
            var served = new ConcurrentBag<(TimeSpan SentAt, string Behaviour)>();
            using var stopLoad = new CancellationTokenSource();
            var load = new[] { Tracks.Stable, Tracks.Canary, Tracks.Stable, Tracks.Canary }.Select(track => Task.Run(async () =>
            {
                while (!stopLoad.IsCancellationRequested)
                {
                    var sentAt = clock.Elapsed;
                    served.Add((sentAt, await SendAsync(gateway, track)));
                }
            })).ToArray();

            await RoutingTests.WaitUntilAsync(() => Task.FromResult(served.Count >= 40), "load before the kill");
            using (var kill = await api.PostAsJsonAsync($"{FlagsPath}/{Flag}/kill", new { reason = "whole-app kill under load" })
                .WaitAsync(AppFixture.RequestDeadline))
            {
                Assert.True(kill.IsSuccessStatusCode, await kill.Content.ReadAsStringAsync());
            }

            var killReturnedAt = clock.Elapsed;
            await RoutingTests.WaitUntilAsync(
                () => Task.FromResult(served.Count(s => s.SentAt > killReturnedAt + KillDeadline) >= 100), "load after the kill");
            await stopLoad.CancelAsync();
            await Task.WhenAll(load).WaitAsync(AppFixture.RequestDeadline);

            var later = served.Where(s => s.SentAt > killReturnedAt + KillDeadline).ToList();
            Assert.All(later, s => Assert.Equal(Basic, s.Behaviour));

            // Restoring the switch brings the behaviour back just as fast.
            using (var restore = await api.DeleteAsync($"{FlagsPath}/{Flag}/kill").WaitAsync(AppFixture.RequestDeadline))
            {
                Assert.True(restore.IsSuccessStatusCode, await restore.Content.ReadAsStringAsync());
            }

            await WaitForBehaviourAsync(gateway, Tracks.Canary, Enriched);
        }
        finally
        {
            await ClearDefinitionsAsync(api);
        }
    }

    [Fact]
    public async Task Agents_keep_last_known_flags_while_RolloutApi_is_down_even_across_their_own_restart()
    {
        using var api = fixture.CreateOperatorClient();
        using var gateway = fixture.CreateGatewayClient();
        using var deadline = new CancellationTokenSource(AppFixture.StartDeadline);
        await fixture.AllowForcedCanaryAsync();
        await EnableFlagEverywhereAsync(api);
        await WaitForBehaviourAsync(gateway, Tracks.Canary, Enriched);

        var stopped = await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.RolloutApi, KnownResourceCommands.StopCommand, deadline.Token);
        Assert.True(stopped.Success, stopped.Message);
        try
        {
            Assert.Equal(Enriched, await SendAsync(gateway, Tracks.Canary));
            var before = await ServedByTests.IdentityViaGatewayAsync(gateway, Tracks.Canary);

            // A restarted agent cannot reach RolloutApi: it serves the copy it kept on disk.
            var restartedAgent = await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.AgentCanary, KnownResourceCommands.RestartCommand, deadline.Token);
            Assert.True(restartedAgent.Success, restartedAgent.Message);
            // Wait on the agent's own word (a new instance answering), not on a health state that may still be the
            // old process's: the requests below must each succeed, there is no retry to hide one that does not.
            var after = await ServedByTests.WaitForNewInstanceAsync(fixture, ResourceNames.AgentCanary, before.Instance);
            await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.AgentCanary, deadline.Token);
            await WaitForBehaviourAsync(gateway, Tracks.Canary, Enriched);

            // It really is a new process, by its own word, that serves the kept flags — and the gateway reaches it.
            Assert.NotEqual(before.ProcessId, after.ProcessId);
            Assert.Equal(after.Instance, (await ServedByTests.IdentityViaGatewayAsync(gateway, Tracks.Canary)).Instance);
        }
        finally
        {
            await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.RolloutApi, KnownResourceCommands.StartCommand, deadline.Token);
            await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.RolloutApi, deadline.Token);
            using var restarted = fixture.CreateOperatorClient();
            await ClearDefinitionsAsync(restarted);
        }

        await WaitForBehaviourAsync(gateway, Tracks.Canary, Basic);
    }

    internal static async Task EnableFlagEverywhereAsync(HttpClient api)
    {
        var body = new
        {
            feature_management = new { feature_flags = new[] { new { id = Flag, enabled = true } } },
            reason = "whole-app flag test",
        };
        using var response = await api.PutAsJsonAsync($"{FlagsPath}/definitions", body).WaitAsync(AppFixture.RequestDeadline);
        Assert.True(response.IsSuccessStatusCode, $"PUT definitions: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    internal static async Task ClearDefinitionsAsync(HttpClient api)
    {
        var body = new { feature_management = new { feature_flags = Array.Empty<object>() }, reason = "whole-app flag test cleanup" };
        using var response = await api.PutAsJsonAsync($"{FlagsPath}/definitions", body).WaitAsync(AppFixture.RequestDeadline);
        Assert.True(response.IsSuccessStatusCode, $"PUT definitions: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    internal static async Task<string> SendAsync(HttpClient gateway, string track)
    {
        using var response = await WorkItems.SendAsync(gateway, track);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(track, WholeAppTests.ServedBy(response));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("behaviour").GetString()!;
    }

    internal static Task WaitForBehaviourAsync(HttpClient gateway, string track, string behaviour) =>
        RoutingTests.WaitUntilAsync(async () => await SendAsync(gateway, track) == behaviour, $"{track} to serve '{behaviour}'");
}
