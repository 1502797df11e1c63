using System.Diagnostics;
using System.Net;
using AgentAspire.Contracts;
using AgentAspire.TestSupport;
using RolloutApi.Rollouts;
using RolloutApi.Tests.Durability;
using RolloutApi.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RolloutApi.Tests.Faults;

/// <summary>
/// Real processes under open-loop load (200 requests/s through two gateways): RolloutApi is SIGKILLed and stays down for
/// 10 s, then comes back on the same database. Not one request fails, the split holds at the last weights throughout
/// (by the agents' own counts), and after the restart both gateways reconnect and report the table in force.
/// </summary>
public sealed class ControlPlaneOutageTests(ITestOutputHelper output)
{
    private const string AgentPath = $"/api/agents/{RolloutApiFactory.Agent}";
    private const int RequestsPerSecond = 200;
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task RolloutApi_down_for_10_seconds_fails_no_request_through_the_gateways()
    {
        var directory = TestPaths.NewTempDirectory();
        var database = Path.Combine(directory, "outage.db");
        await using var stable = await AgentStandIn.StartAsync(Tracks.Stable, stampIdentity: false);
        await using var canary = await AgentStandIn.StartAsync(Tracks.Canary, stampIdentity: false);
        var settings = new Dictionary<string, string?>
        {
            [$"Agents:{RolloutApiFactory.Agent}:Stable:Destination"] = stable.Address.ToString(),
            [$"Agents:{RolloutApiFactory.Agent}:Canary:Destination"] = canary.Address.ToString(),
        };
        RolloutApiProcess? api = RolloutApiProcess.Start(database, settings);
        try
        {
            await api.WaitReadyAsync(TimeSpan.FromSeconds(60));
            // The gateways reach RolloutApi through a relay, so that its restart on a new port keeps their address.
            await using var relay = new TcpRelay(api.Address.Port);
            using var a = GatewayProcess.Start(Settings("outage-a", relay.Address, stable, canary));
            using var b = GatewayProcess.Start(Settings("outage-b", relay.Address, stable, canary));
            await Task.WhenAll(a.WaitListeningAsync(TimeSpan.FromSeconds(60)), b.WaitListeningAsync(TimeSpan.FromSeconds(60)));
            using (var client = api.CreateClient())
            {
                await HeldRollout.StartAsync(client, 2000, 2, "both gateways at 20 %");
            }

            using var throughA = a.CreateClient();
            using var throughB = b.CreateClient();
            var (stableBefore, canaryBefore) = (stable.Served, canary.Served);
            var load = OpenLoad.RunAsync([throughA, throughB], RequestsPerSecond, Outage + TimeSpan.FromSeconds(4));

            // One second into the load: kill RolloutApi, keep it down for the outage, restart it on the same database.
            await Task.Delay(TimeSpan.FromSeconds(1)); // the stimulus' timing, not synchronisation
            await api.KillAsync();
            var down = Stopwatch.StartNew();
            await Task.Delay(Outage); // the outage itself is the fault under test
            api.Dispose();
            api = RolloutApiProcess.Start(database, settings);
            relay.Retarget(api.Address.Port);
            await api.WaitReadyAsync(TimeSpan.FromSeconds(60));
            output.WriteLine($"RolloutApi was down {down.Elapsed.TotalSeconds:0.0} s");

            var results = await load.WaitAsync(TimeSpan.FromSeconds(60));
            var failed = results.Where(r => r.Status != HttpStatusCode.OK).ToList();
            var servedCanary = results.Count(r => r.Body == Tracks.Canary);
            output.WriteLine($"{results.Count} requests at {RequestsPerSecond}/s: {failed.Count} failed; canary served {servedCanary} " +
                $"({100.0 * servedCanary / results.Count:0.0} %)");
            Assert.True(results.Count >= RequestsPerSecond * (Outage.TotalSeconds + 2), $"only {results.Count} requests were sent");
            Assert.Empty(failed);
            // The agents' own counts agree with the answers, and the split held at the last weights (20 %) while RolloutApi was away.
            Assert.Equal(results.Count, stable.Served - stableBefore + canary.Served - canaryBefore);
            Assert.Equal(servedCanary, canary.Served - canaryBefore);
            Assert.InRange(100.0 * servedCanary / results.Count, 18, 22);

            // Back: both gateways reconnect and report the table in force again.
            using var after = api.CreateClient();
            await Deadline.PollAsync(async () => await (await after.GetAsync($"{AgentPath}/rollout").WaitAsync(Deadline.Request)).ReadAsync<RolloutStatus>(),
                r => r.Gateways is { AllApplied: true, Known: 2 }, TimeSpan.FromSeconds(30), "both gateways to report after the restart");
        }
        finally
        {
            api?.Dispose();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TestPaths.TryDelete(directory);
        }
    }

    private static Dictionary<string, string?> Settings(string id, Uri rolloutApi, AgentStandIn stable, AgentStandIn canary) => new()
    {
        ["Gateway:Id"] = id,
        ["Gateway:Agent"] = RolloutApiFactory.Agent,
        ["Gateway:RolloutApi"] = rolloutApi.ToString(),
        ["Gateway:ApiKey"] = RolloutApiFactory.ViewerKey,
        ["Gateway:Stable:Destination"] = stable.Address.ToString(),
        ["Gateway:Canary:Destination"] = canary.Address.ToString(),
        ["Gateway:ReconnectMinDelay"] = "00:00:00.100",
        ["Gateway:ReconnectMaxDelay"] = "00:00:01",
    };
}
