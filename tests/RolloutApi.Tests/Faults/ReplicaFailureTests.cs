using System.Net;
using System.Text.RegularExpressions;
using AgentAspire.Contracts;
using AgentAspire.TestSupport;
using RolloutApi.Rollouts;
using RolloutApi.Tests.Durability;
using RolloutApi.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RolloutApi.Tests.Faults;

/// <summary>
/// Real RolloutApi and gateway processes under open-loop load (200 requests/s), the canary track served by two replicas
/// (resolved by service discovery, as Kubernetes or a scaled Aspire resource gives them): one replica dies mid-load. At
/// most 0.1 % of requests fail, since the gateway retries a request whose connection was refused on the other replica
/// and passive health ejects the dead one; the agents' own counts account for every answer.
/// </summary>
public sealed partial class ReplicaFailureTests(ITestOutputHelper output)
{
    private const string AgentPath = $"/api/agents/{RolloutApiFactory.Agent}";
    private const string CanaryService = "agent-canary-replicas";
    private const int RequestsPerSecond = 200;
    private static readonly TimeSpan LoadDuration = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task One_of_two_canary_replicas_killed_under_load_fails_at_most_a_thousandth_of_requests()
    {
        var directory = TestPaths.NewTempDirectory();
        await using var stable = await AgentStandIn.StartAsync(Tracks.Stable, stampIdentity: false);
        await using var canary1 = await AgentStandIn.StartAsync("canary-1", Tracks.Canary, stampIdentity: false);
        var canary2 = await AgentStandIn.StartAsync("canary-2", Tracks.Canary, stampIdentity: false);
        var canary2Alive = true;
        try
        {
            using var api = RolloutApiProcess.Start(Path.Combine(directory, "replicas.db"), new Dictionary<string, string?>
            {
                [$"Agents:{RolloutApiFactory.Agent}:Stable:Destination"] = stable.Address.ToString(),
                // A service name, not an address: each gateway resolves it to the track's replicas.
                [$"Agents:{RolloutApiFactory.Agent}:Canary:Destination"] = $"http://{CanaryService}",
            });
            await api.WaitReadyAsync(TimeSpan.FromSeconds(60));
            using var gateway = GatewayProcess.Start(new Dictionary<string, string?>
            {
                ["Gateway:Id"] = "replicas-gw",
                ["Gateway:Agent"] = RolloutApiFactory.Agent,
                ["Gateway:RolloutApi"] = api.Address.ToString(),
                ["Gateway:ApiKey"] = RolloutApiFactory.ViewerKey,
                ["Gateway:Stable:Destination"] = stable.Address.ToString(),
                ["Gateway:Canary:Destination"] = $"http://{CanaryService}",
                [$"services:{CanaryService}:http:0"] = canary1.Address.ToString(),
                [$"services:{CanaryService}:http:1"] = canary2.Address.ToString(),
            });
            await gateway.WaitReadyAsync(TimeSpan.FromSeconds(60));
            using (var client = api.CreateClient())
            {
                await HeldRollout.StartAsync(client, 5000, 1, "the gateway at 50 %");
            }

            using var through = gateway.CreateClient();
            var before = (stable.Served, canary1.Served, canary2.Served);
            var load = OpenLoad.RunAsync([through], RequestsPerSecond, LoadDuration);

            // Three seconds in (both replicas serving): canary-2 dies, its open connections dropped as a crash drops them.
            await Task.Delay(TimeSpan.FromSeconds(3)); // the stimulus' timing, not synchronisation
            await canary2.DisposeAsync();
            canary2Alive = false;
            // Read after the stop: requests already inside canary-2 were answered while it went down.
            var canary2AtKill = canary2.Served;

            var results = await load.WaitAsync(TimeSpan.FromSeconds(90));
            var failed = results.Where(r => r.Status != HttpStatusCode.OK).ToList();
            var byBody = results.Where(r => r.Status == HttpStatusCode.OK).GroupBy(r => r.Body).ToDictionary(g => g.Key, g => g.Count());
            var retries = RetryLine().Count(gateway.Output);
            output.WriteLine($"{results.Count} requests at {RequestsPerSecond}/s: {failed.Count} failed " +
                $"({string.Join("; ", failed.Take(3).Select(f => $"{(int)f.Status} {f.Body}"))}); served by " +
                string.Join(", ", byBody.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}")) +
                $"; canary-2 served {canary2AtKill - before.Item3} before it died; the gateway logged {retries} retries");

            Assert.True(results.Count >= RequestsPerSecond * LoadDuration.TotalSeconds * 0.99, $"only {results.Count} requests were sent");
            Assert.True(failed.Count <= results.Count / 1000, $"{failed.Count} of {results.Count} requests failed (at most 0.1 % allowed)");
            // Both replicas took canary traffic before the kill, so the kill hit a replica in use.
            Assert.True(canary2AtKill - before.Item3 > 20, $"canary-2 served only {canary2AtKill - before.Item3} before it died");
            Assert.True(canary1.Served - before.Item2 > 20, "canary-1 served nothing");
            // The agents' own counts account for every answer, and the split held at 50 % with one canary replica left.
            Assert.Equal(results.Count - failed.Count,
                stable.Served - before.Item1 + canary1.Served - before.Item2 + canary2AtKill - before.Item3);
            var canaryShare = 100.0 * (byBody.GetValueOrDefault("canary-1") + byBody.GetValueOrDefault("canary-2")) / results.Count;
            Assert.InRange(canaryShare, 45, 55);
            // The failures that did not reach a client were saved by the retry (the dead replica refused connections).
            Assert.True(retries > 0, "the gateway never retried: the kill was not observed under load\n" + gateway.Output);
        }
        finally
        {
            if (canary2Alive)
            {
                await canary2.DisposeAsync();
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TestPaths.TryDelete(directory);
        }
    }

    [GeneratedRegex("retrying once on another replica")]
    private static partial Regex RetryLine();
}
