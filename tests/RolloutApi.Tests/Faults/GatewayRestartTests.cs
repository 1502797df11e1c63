using System.Net;
using System.Net.Http.Json;
using AgentAspire.Contracts;
using AgentAspire.TestSupport;
using RolloutApi.Rollouts;
using RolloutApi.Tests.Durability;
using RolloutApi.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RolloutApi.Tests.Faults;

/// <summary>
/// Real processes: a gateway is SIGKILLed, the routing table moves while it is down (an abort), and it restarts while
/// RolloutApi is unreachable. It reports not ready (503) for as long as it has no table, and the first time it reports
/// ready it already routes by the table in force, by its own <c>/gateway/routing</c> and by who serves.
/// </summary>
public sealed class GatewayRestartTests(ITestOutputHelper output)
{
    private const string AgentPath = $"/api/agents/{RolloutApiFactory.Agent}";
    private const string GatewayId = "restart-gw";

    [Fact]
    public async Task A_restarted_gateway_reports_ready_only_once_it_has_the_current_routing_table()
    {
        var directory = TestPaths.NewTempDirectory();
        await using var stable = await AgentStandIn.StartAsync(Tracks.Stable, stampIdentity: false);
        await using var canary = await AgentStandIn.StartAsync(Tracks.Canary, stampIdentity: false);
        GatewayProcess? gateway = null;
        try
        {
            using var api = RolloutApiProcess.Start(Path.Combine(directory, "restart.db"), new Dictionary<string, string?>
            {
                [$"Agents:{RolloutApiFactory.Agent}:Stable:Destination"] = stable.Address.ToString(),
                [$"Agents:{RolloutApiFactory.Agent}:Canary:Destination"] = canary.Address.ToString(),
                ["RolloutApi:GatewayAckTimeout"] = "00:00:00.200",
            });
            await api.WaitReadyAsync(TimeSpan.FromSeconds(60));
            await using var relay = new TcpRelay(api.Address.Port);
            var settings = new Dictionary<string, string?>
            {
                ["Gateway:Id"] = GatewayId,
                ["Gateway:Agent"] = RolloutApiFactory.Agent,
                ["Gateway:RolloutApi"] = relay.Address.ToString(),
                ["Gateway:ApiKey"] = RolloutApiFactory.ViewerKey,
                ["Gateway:Stable:Destination"] = stable.Address.ToString(),
                ["Gateway:Canary:Destination"] = canary.Address.ToString(),
                // The configured initial weight would send everything to the canary: a gateway serving on it is visible.
                ["Gateway:InitialWeight"] = "10000",
                ["Gateway:ReconnectMinDelay"] = "00:00:00.050",
                ["Gateway:ReconnectMaxDelay"] = "00:00:00.200",
                ["Gateway:FirstTableWait"] = "00:02:00",
            };
            gateway = GatewayProcess.Start(settings);
            await gateway.WaitReadyAsync(TimeSpan.FromSeconds(60));
            using var client = api.CreateClient();
            await HeldRollout.StartAsync(client, 3000, 1, "the gateway at 30 %");

            // Killed; while it is down the table moves (an abort), and RolloutApi becomes unreachable from it.
            await gateway.KillAsync();
            gateway.Dispose();
            using (var aborted = await client.PostAsync($"{AgentPath}/rollout/abort", null).WaitAsync(Deadline.Request))
            {
                Assert.Equal(HttpStatusCode.OK, aborted.StatusCode);
            }

            var current = await TableAsync(client);
            Assert.Equal(0, current.Find(RolloutApiFactory.Agent)!.Weight);
            relay.Cut();

            // Restarted without its table: listening, yet not ready, and it stays not ready while RolloutApi is unreachable.
            gateway = GatewayProcess.Start(settings);
            await gateway.WaitListeningAsync(TimeSpan.FromSeconds(60));
            using var probe = gateway.CreateClient();
            var notReady = 0;
            for (var i = 0; i < 20; i++)
            {
                using var health = await probe.GetAsync(HealthPaths.Health).WaitAsync(Deadline.Request);
                Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
                notReady++;
                await Task.Delay(TimeSpan.FromMilliseconds(50)); // spacing the probes over a second, not synchronisation
            }

            // RolloutApi reachable again: the first ready answer comes with the table in force already applied.
            relay.Restore();
            await Deadline.PollAsync(async () => (await probe.GetAsync(HealthPaths.Health).WaitAsync(Deadline.Request)).StatusCode,
                s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "the gateway to report ready");
            var applied = await probe.GetFromJsonAsync<Dictionary<string, object?>>("/gateway/routing").WaitAsync(Deadline.Request);
            output.WriteLine($"not ready on {notReady} probes while cut off; ready at revision {applied!["revision"]} " +
                $"(RolloutApi's current: {current.Revision}), source {applied["source"]}, weight {applied["weight"]}");
            Assert.Equal(current.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture), applied["revision"]?.ToString());
            Assert.Equal("rollout-api", applied["source"]?.ToString());
            Assert.Equal("0", applied["weight"]?.ToString());

            // And by who serves: the canary, which the initial weight would have chosen, serves nothing.
            var canaryBefore = canary.Served;
            for (var i = 0; i < 50; i++)
            {
                using var response = await probe.GetAsync("/work").WaitAsync(Deadline.Request);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(Tracks.Stable, await response.Content.ReadAsStringAsync());
            }

            Assert.Equal(canaryBefore, canary.Served);
        }
        finally
        {
            gateway?.Dispose();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TestPaths.TryDelete(directory);
        }
    }

    private static async Task<RoutingTable> TableAsync(HttpClient client)
    {
        using var response = await client.GetAsync(RolloutApiPaths.Routing).WaitAsync(Deadline.Request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadAsync<RoutingTable>();
    }
}
