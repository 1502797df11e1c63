using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using AgentAspire.Contracts;
using AgentAspire.TestSupport;
using RolloutApi.Model;
using RolloutApi.Rollouts;
using RolloutApi.Routing;
using RolloutApi.Tests.Durability;
using RolloutApi.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RolloutApi.Tests.Faults;

/// <summary>
/// Real processes: RolloutApi, two gateways (one reaches RolloutApi through a relay the test cuts) and two stand-in agents
/// that say who served. An abort returns reporting which gateways applied it, and the cut-off gateway stops sending
/// traffic to the canary within its lease (stable-only fallback), by the canary's own count.
/// </summary>
public sealed class GatewayAcknowledgementTests(ITestOutputHelper output)
{
    private const string AgentPath = $"/api/agents/{RolloutApiFactory.Agent}";
    private const string GatewayA = "gw-a";
    private const string GatewayB = "gw-b";
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(1.5);
    private static readonly TimeSpan AckTimeout = TimeSpan.FromMilliseconds(200);

    /// <summary>The lease is checked every tenth of it: the fallback lands within lease + one check + scheduling slack.</summary>
    private static readonly TimeSpan FallbackSlack = TimeSpan.FromMilliseconds(700);

    [Fact]
    public async Task An_abort_reports_1_of_2_gateways_when_one_is_cut_off_and_that_one_stops_canary_traffic_within_its_lease()
    {
        var directory = TestPaths.NewTempDirectory();
        await using var stable = await AgentStandIn.StartAsync(Tracks.Stable, stampIdentity: false);
        await using var canary = await AgentStandIn.StartAsync(Tracks.Canary, stampIdentity: false);
        try
        {
            using var api = RolloutApiProcess.Start(Path.Combine(directory, "acks.db"), new Dictionary<string, string?>
            {
                [$"Agents:{RolloutApiFactory.Agent}:Stable:Destination"] = stable.Address.ToString(),
                [$"Agents:{RolloutApiFactory.Agent}:Canary:Destination"] = canary.Address.ToString(),
                // Keep-alives well inside the lease, so that only a cut (not an idle stream) lets it run out.
                ["RolloutApi:StreamHeartbeatInterval"] = "00:00:00.100",
                ["RolloutApi:GatewayAckTimeout"] = AckTimeout.ToString(),
            });
            await api.WaitReadyAsync(TimeSpan.FromSeconds(60));
            await using var relay = new TcpRelay(api.Address.Port);
            using var a = GatewayProcess.Start(GatewaySettings(GatewayA, api.Address, stable, canary));
            using var b = GatewayProcess.Start(GatewaySettings(GatewayB, relay.Address, stable, canary));
            await Task.WhenAll(a.WaitListeningAsync(TimeSpan.FromSeconds(60)), b.WaitListeningAsync(TimeSpan.FromSeconds(60)));
            using var client = api.CreateClient();
            using var throughA = a.CreateClient();
            using var throughB = b.CreateClient();

            // Both gateways connected and reporting: RolloutApi knows them.
            await Deadline.PollAsync(() => GatewaysAsync(client), g => g.Count == 2 && g.All(x => x.Connected && x.AppliedRevision > 0),
                TimeSpan.FromSeconds(30), "both gateways to connect and report");

            // A rollout at 50 % (the reconciler takes the first step), applied by both gateways.
            using var revision = await client.PostAsync($"{AgentPath}/revisions", Json.Body("""{"version": "2.0.0"}""")).WaitAsync(Deadline.Request);
            Assert.Equal(HttpStatusCode.Created, revision.StatusCode);
            var number = (await revision.ReadAsync<RevisionView>()).Number;
            using var started = await client.PostAsync($"{AgentPath}/rollouts",
                Json.Body($$$"""{"revision": {{{number}}}, "steps": [{"setWeight": 5000}, {"pause": {}}]}""")).WaitAsync(Deadline.Request);
            Assert.Equal(HttpStatusCode.Created, started.StatusCode);
            Assert.NotNull((await started.ReadAsync<RolloutStatus>()).Gateways);
            await Deadline.PollAsync(() => RolloutAsync(client), r => r.Weight == 5000 && r.Gateways is { AllApplied: true, Known: 2 },
                TimeSpan.FromSeconds(30), "both gateways to apply the 50 % step");

            // Before the cut, B does send traffic to the canary (by the canary's own count).
            var before = canary.Served;
            var warmup = await SendAsync(throughB, 40);
            Assert.InRange(warmup.Count(t => t == Tracks.Canary), 15, 25);
            Assert.Equal(before + warmup.Count(t => t == Tracks.Canary), canary.Served);

            // Cut B off and, from that moment, keep sending through B (by the agents' word); meanwhile abort.
            var canaryAtCut = canary.Served;
            relay.Cut();
            var cutAt = Stopwatch.StartNew();
            var throughBAfterCut = Task.Run(async () =>
            {
                var served = new List<(TimeSpan At, string Track)>();
                while (cutAt.Elapsed < Lease + FallbackSlack + TimeSpan.FromMilliseconds(300))
                {
                    var track = await SendOneAsync(throughB);
                    served.Add((cutAt.Elapsed, track));
                }

                return served;
            });
            using var aborted = await client.PostAsync($"{AgentPath}/rollout/abort", null).WaitAsync(Deadline.Request);
            var abortTook = cutAt.Elapsed;
            Assert.Equal(HttpStatusCode.OK, aborted.StatusCode);
            var abort = await aborted.ReadAsync<RolloutStatus>();
            Assert.Equal(RolloutState.Aborted, abort.State);
            var ack = abort.Gateways!;
            output.WriteLine($"abort returned {abortTook.TotalMilliseconds:0} ms after the cut: {Describe(ack)}");
            Assert.Equal(2, ack.Known);
            Assert.Equal(1, ack.Applied);
            Assert.Contains(ack.Gateways, g => g.Id == GatewayA && g.AppliedRevision >= ack.Revision);
            Assert.Contains(ack.Gateways, g => g.Id == GatewayB && g.AppliedRevision < ack.Revision && !g.Connected);
            Assert.True(ack.WaitedMs >= AckTimeout.TotalMilliseconds * 0.9, $"waited only {ack.WaitedMs} ms for the missing gateway");
            Assert.Equal("1", Header(aborted, "Gateways-Applied"));
            Assert.Equal("2", Header(aborted, "Gateways-Known"));

            // A applied the abort before the call returned: none of its requests reach the canary.
            var viaA = await SendAsync(throughA, 100);
            Assert.All(viaA, t => Assert.Equal(Tracks.Stable, t));

            // B had not heard of the abort: it kept its 50 % until the lease ran out, then sent nothing to the canary.
            var afterCut = await throughBAfterCut.WaitAsync(Deadline.Request);
            var canaryAfterCut = afterCut.Where(r => r.Track == Tracks.Canary).ToList();
            var lastCanary = canaryAfterCut.Count > 0 ? canaryAfterCut[^1].At : TimeSpan.Zero;
            output.WriteLine($"gateway B: {afterCut.Count} requests after the cut, {canaryAfterCut.Count} served by the canary, " +
                $"the last {lastCanary.TotalMilliseconds:0} ms after the cut");
            Assert.True(canaryAfterCut.Count > 0, "B sent nothing to the canary after the cut: the test did not observe the lease at work");
            Assert.True(lastCanary <= Lease + FallbackSlack, $"B still sent to the canary {lastCanary} after the cut (lease {Lease})");
            // The canary's own count agrees: everything it served since the cut came through B, none through A.
            Assert.Equal(canaryAtCut + canaryAfterCut.Count, canary.Served);

            // From now on B is stable-only, by the canary's own counter.
            var canaryBefore = canary.Served;
            var viaB = await SendAsync(throughB, 200);
            Assert.All(viaB, t => Assert.Equal(Tracks.Stable, t));
            Assert.Equal(canaryBefore, canary.Served);
            var bRouting = await throughB.GetFromJsonAsync<Dictionary<string, object?>>("/gateway/routing").WaitAsync(Deadline.Request);
            Assert.Equal("stable-only", bRouting!["fallback"]?.ToString());

            // RolloutApi shows B behind, for how long, and not connected.
            var listed = await GatewaysAsync(client);
            var lagging = listed.Single(g => g.Id == GatewayB);
            Assert.False(lagging.Connected);
            Assert.True(lagging.RevisionsBehind > 0 && lagging.LagMs > 0, $"B: {lagging}");
            Assert.Equal(0, listed.Single(g => g.Id == GatewayA).RevisionsBehind);

            // Heal the partition: B reconnects, applies the abort and reports it; the next read shows 2 of 2.
            relay.Restore();
            var healed = await Deadline.PollAsync(() => GatewaysAsync(client), g => g.All(x => x.Connected && x.RevisionsBehind == 0),
                TimeSpan.FromSeconds(30), "B to reconnect and report the abort");
            Assert.All(healed, g => Assert.Null(g.Fallback));
            var view = await RolloutAsync(client);
            Assert.True(view.Gateways!.AllApplied && view.Gateways.Known == 2, Describe(view.Gateways));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TestPaths.TryDelete(directory);
        }
    }

    private static async Task<RolloutStatus> RolloutAsync(HttpClient client)
    {
        using var response = await client.GetAsync($"{AgentPath}/rollout").WaitAsync(Deadline.Request);
        return await response.ReadAsync<RolloutStatus>();
    }

    private static Dictionary<string, string?> GatewaySettings(string id, Uri rolloutApi, AgentStandIn stable, AgentStandIn canary) => new()
    {
        ["Gateway:Id"] = id,
        ["Gateway:Agent"] = RolloutApiFactory.Agent,
        ["Gateway:RolloutApi"] = rolloutApi.ToString(),
        ["Gateway:ApiKey"] = RolloutApiFactory.ViewerKey,
        ["Gateway:Stable:Destination"] = stable.Address.ToString(),
        ["Gateway:Canary:Destination"] = canary.Address.ToString(),
        ["Gateway:ReconnectMinDelay"] = "00:00:00.050",
        ["Gateway:ReconnectMaxDelay"] = "00:00:00.200",
        ["Gateway:Lease"] = Lease.ToString(),
        ["Gateway:LeaseFallback"] = "StableOnly",
    };

    private static async Task<IReadOnlyList<GatewayView>> GatewaysAsync(HttpClient client)
    {
        using var response = await client.GetAsync(RolloutApiPaths.RoutingGateways).WaitAsync(Deadline.Request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadAsync<List<GatewayView>>();
    }

    /// <summary>Who served, by the agent's own body.</summary>
    private static async Task<string> SendOneAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/work").WaitAsync(Deadline.Request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    private static async Task<List<string>> SendAsync(HttpClient client, int count)
    {
        var served = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            served.Add(await SendOneAsync(client));
        }

        return served;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    private static string Describe(GatewayAcknowledgement ack) =>
        $"revision {ack.Revision}: {ack.Applied} of {ack.Known} applied after {ack.WaitedMs} ms; " +
        string.Join(", ", ack.Gateways.Select(g => $"{g.Id} at {g.AppliedRevision} (connected {g.Connected}, lag {g.LagMs} ms)"));
}
