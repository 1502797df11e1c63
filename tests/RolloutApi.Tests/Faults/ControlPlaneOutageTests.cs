using System.Diagnostics;
using System.Net;
using AgentAspire.Contracts;
using RolloutApi.Rollouts;
using RolloutApi.Tests.Durability;
using RolloutApi.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RolloutApi.Tests.Faults;

/// <summary>
/// Real processes under open-loop load (200 work items/s through two gateways to two AgentWorker processes, one per track):
/// RolloutApi is SIGKILLed and stays down for 10 s, then comes back on the same database. Not one request fails, the split
/// holds at the last weights, and the agents keep serving the flags RolloutApi set before the outage, values unlike the
/// ones they ship, on every answer of each agent process, before, during and after it. Afterwards both gateways report
/// the table in force, each agent says it reconnected, and a flag change made then reaches both agents.
/// </summary>
public sealed class ControlPlaneOutageTests(ITestOutputHelper output)
{
    private const string AgentPath = $"/api/agents/{RolloutApiFactory.Agent}";
    private const int RequestsPerSecond = 200;
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(10);

    // AgentWorker's two flag-gated behaviours. It ships EnrichedOutput off (basic output, no keywords) and UpstreamCalls
    // on (each item posted to its upstream). RolloutApi's values before the outage differ in both, and in a way each answer
    // shows: enriched output with the variant's keyword count, and no upstream call.
    private const string Basic = "basic";
    private const string Enriched = "enriched";
    private static readonly (string Variant, int Keywords) Held = ("keywords-3", 3);
    private static readonly (string Variant, int Keywords) Later = ("keywords-7", 7);

    [Fact]
    public async Task RolloutApi_down_for_10_seconds_fails_no_request_and_the_agents_keep_its_flags_throughout()
    {
        var directory = TestPaths.NewTempDirectory();
        var database = Path.Combine(directory, "outage.db");
        await using var upstream = await UpstreamWitness.StartAsync();
        // As AppHost starts RolloutApi: with the flags the agent ships. The tracks' destinations stay RolloutApiFactory's
        // service names (http://agent-stable, http://agent-canary), which each gateway resolves to the agent processes.
        var settings = new Dictionary<string, string?> { [ConfigKeys.Agents.Flags(RolloutApiFactory.Agent)] = AgentWorkerProcess.ShippedFlags() };
        RolloutApiProcess? api = RolloutApiProcess.Start(database, settings);
        try
        {
            await api.WaitReadyAsync(TimeSpan.FromSeconds(60));
            // Agents and gateways reach RolloutApi through a relay, so that its restart on a new port keeps their address.
            await using var relay = new TcpRelay(api.Address.Port);
            using var stable = AgentWorkerProcess.Start("stable", Tracks.Stable, relay.Address, directory, upstream.Address);
            using var canary = AgentWorkerProcess.Start("canary", Tracks.Canary, relay.Address, directory, upstream.Address);
            AgentWorkerProcess[] agents = [stable, canary];
            await Task.WhenAll(agents.Select(agent => agent.WaitListeningAsync(TimeSpan.FromSeconds(60))));
            using var a = GatewayProcess.Start(Settings("outage-a", relay.Address, stable, canary));
            using var b = GatewayProcess.Start(Settings("outage-b", relay.Address, stable, canary));
            await Task.WhenAll(
                a.WaitListeningAsync(TimeSpan.FromSeconds(60)), b.WaitListeningAsync(TimeSpan.FromSeconds(60)),
                stable.WaitReadyAsync(TimeSpan.FromSeconds(60)), canary.WaitReadyAsync(TimeSpan.FromSeconds(60)));
            using (var client = api.CreateClient())
            {
                await HeldRollout.StartAsync(client, 2000, 2, "both gateways at 20 %");
            }

            // Each agent starts on what it ships: basic output, its upstream called. The outage must not bring that back.
            foreach (var agent in agents)
            {
                var shipped = await agent.ProcessAsync($"shipped-{agent.Name}");
                Assert.True(shipped.Is(Basic, null, 0, calledUpstream: true), $"{agent.Name} before any flag change: {shipped}");
            }

            // RolloutApi's values, then each agent's own answer with them (not RolloutApi's view of what it sent).
            using (var client = api.CreateClient())
            {
                await SetFlagsAsync(client, Held, upstreamCalls: false);
            }

            var held = new Dictionary<string, AgentFlags>();
            var instances = new Dictionary<string, string>();
            foreach (var agent in agents)
            {
                await WaitForAnswerAsync(agent, Held, calledUpstream: false);
                held[agent.Name] = await agent.FlagsAsync();
                instances[agent.Name] = await agent.IdentityAsync();
                Assert.Equal(("Remote", true, 1L), (held[agent.Name].Source, held[agent.Name].Connected, held[agent.Name].Connections));
            }

            var processedBefore = await Task.WhenAll(agents.Select(agent => agent.ProcessedAsync()));
            var upstreamBefore = upstream.Calls;

            using var throughA = a.CreateClient();
            using var throughB = b.CreateClient();
            using var stopLoad = new CancellationTokenSource();
            var load = OpenLoad.RunAsync([throughA, throughB], RequestsPerSecond, TimeSpan.FromSeconds(60), stopLoad.Token);

            // One second into the load: kill RolloutApi, keep it down for the outage, restart it on the same database.
            await Task.Delay(TimeSpan.FromSeconds(1)); // the stimulus' timing, not synchronisation
            await api.KillAsync();
            var killedAt = Stopwatch.GetTimestamp();
            // Each agent notices on its own (its stream closed) and keeps the flags it had: fail static.
            var duringOutage = await Task.WhenAll(agents.Select(agent =>
                Deadline.PollAsync(agent.FlagsAsync, f => !f.Connected, Outage, $"{agent.Name} to see its flag stream close")));
            var noticed = Stopwatch.GetElapsedTime(killedAt);
            Assert.True(noticed < Outage, $"the agents noticed the outage only after {noticed}");
            await Task.Delay(Outage - noticed); // the rest of the outage: the fault under test
            api.Dispose();
            api = RolloutApiProcess.Start(database, settings);
            await api.WaitReadyAsync(TimeSpan.FromSeconds(60));
            relay.Retarget(api.Address.Port);
            var backAt = Stopwatch.GetTimestamp();

            // Back: each agent reconnects by its own word (a second stream connection), on the same flags.
            var reconnected = await Task.WhenAll(agents.Select(agent =>
                Deadline.PollAsync(agent.FlagsAsync, f => f.Connected && f.Connections >= 2, TimeSpan.FromSeconds(30), $"{agent.Name} to reconnect")));
            var reconnectedIn = Stopwatch.GetElapsedTime(backAt);
            await Task.Delay(TimeSpan.FromSeconds(2)); // two more seconds of load with RolloutApi back: the stimulus' timing
            await stopLoad.CancelAsync();
            var results = await load.WaitAsync(TimeSpan.FromSeconds(60));

            var failed = results.Where(r => !r.Ok).ToList();
            var answers = results.Where(r => r.Ok).Select(r => (r.SentAt, r.Instance, Answer: r.Answer)).ToList();
            var servedCanary = answers.Count(x => x.Answer.ServedBy.Track == Tracks.Canary);
            var phases = answers.GroupBy(x => x.SentAt < killedAt ? "before" : x.SentAt < backAt ? "during" : "after")
                .ToDictionary(g => g.Key, g => (All: g.Count(), Held: g.Count(x => x.Answer.Is(Enriched, Held.Variant, Held.Keywords, calledUpstream: false))));
            output.WriteLine($"RolloutApi was down {Stopwatch.GetElapsedTime(killedAt, backAt).TotalSeconds:0.0} s; the agents saw their streams close " +
                $"within {noticed.TotalMilliseconds:0} ms and reconnected {reconnectedIn.TotalMilliseconds:0} ms after it was back");
            output.WriteLine($"{results.Count} requests at {RequestsPerSecond}/s: {failed.Count} failed " +
                $"({string.Join("; ", failed.Take(3).Select(f => $"{(int)f.Status} {f.Body}"))}); canary served {servedCanary} " +
                $"({100.0 * servedCanary / results.Count:0.0} %)");
            output.WriteLine("answers on RolloutApi's flags (enriched/keywords-3, no upstream call), by phase: " +
                string.Join(", ", new[] { "before", "during", "after" }.Select(p => $"{p} {phases.GetValueOrDefault(p).Held} of {phases.GetValueOrDefault(p).All}")));

            output.WriteLine("answers by the instance and track each agent stamped: " + string.Join(", ",
                answers.GroupBy(x => $"{x.Instance ?? "none"} {x.Answer.ServedBy.Track}").Select(g => $"{g.Key} {g.Count()}")));
            Assert.True(results.Count >= RequestsPerSecond * (Outage.TotalSeconds + 2), $"only {results.Count} requests were sent");
            Assert.Empty(failed);
            Assert.All(new[] { "before", "during", "after" }, p => Assert.True(phases.GetValueOrDefault(p).All > 0, $"no answer {p} the outage"));

            for (var i = 0; i < agents.Length; i++)
            {
                var agent = agents[i];
                var mine = answers.Where(x => x.Instance == instances[agent.Name]).Select(x => x.Answer).ToList();
                var onHeld = mine.Count(answer => answer.Is(Enriched, Held.Variant, Held.Keywords, calledUpstream: false));
                var processed = await Deadline.PollAsync(agent.ProcessedAsync, n => n - processedBefore[i] >= mine.Count, TimeSpan.FromSeconds(10),
                    $"{agent.Name}'s agent_processed_items_total to count its answers");
                output.WriteLine($"{agent.Name} ({instances[agent.Name]}): {mine.Count} answers, {onHeld} on RolloutApi's flags; its own count " +
                    $"{processed - processedBefore[i]}; its flags before/during/after: v{held[agent.Name].Version}/v{duringOutage[i].Version} " +
                    $"({duringOutage[i].Source}, connected {duringOutage[i].Connected})/v{reconnected[i].Version} (connection {reconnected[i].Connections})");

                // Every answer this process gave, before, during and after the outage, carries RolloutApi's values, and
                // it says so itself: the same snapshot version held while RolloutApi was away and after it came back.
                Assert.True(mine.Count > 0, $"{agent.Name} answered nothing");
                Assert.Equal(mine.Count, onHeld);
                Assert.All(mine, answer => Assert.Equal(agent == canary ? Tracks.Canary : Tracks.Stable, answer.ServedBy.Track));
                Assert.Equal(("Remote", held[agent.Name].Version), (duringOutage[i].Source, duringOutage[i].Version));
                Assert.Equal(held[agent.Name].Version, reconnected[i].Version);
                // The agent's own count agrees with its answers: nothing processed that was not answered, nothing twice.
                Assert.Equal(mine.Count, processed - processedBefore[i]);
            }

            // Every answer came from one of the two agents, and the split held at the last weights (20 %).
            Assert.Equal(answers.Count, answers.Count(x => x.Instance == instances[stable.Name] || x.Instance == instances[canary.Name]));
            Assert.InRange(100.0 * servedCanary / results.Count, 18, 22);
            // The kill switch RolloutApi set held in both agents: not one call reached their upstream during the load.
            Assert.Equal(upstreamBefore, upstream.Calls);

            // Back: both gateways reconnect and report the table in force again.
            using var after = api.CreateClient();
            await Deadline.PollAsync(async () => await (await after.GetAsync($"{AgentPath}/rollout").WaitAsync(Deadline.Request)).ReadAsync<RolloutStatus>(),
                r => r.Gateways is { AllApplied: true, Known: 2 }, TimeSpan.FromSeconds(30), "both gateways to report after the restart");

            // And a flag change made now reaches both agents: a new variant, and upstream calls on again (seen by the upstream).
            var (stableCalls, canaryCalls) = (upstream.CallsFrom(Tracks.Stable), upstream.CallsFrom(Tracks.Canary));
            await SetFlagsAsync(after, Later, upstreamCalls: true);
            foreach (var agent in agents)
            {
                await WaitForAnswerAsync(agent, Later, calledUpstream: true);
                Assert.True((await agent.FlagsAsync()).Version > held[agent.Name].Version, $"{agent.Name} still reports the flag version it held");
            }

            var (stableAfter, canaryAfter) = (upstream.CallsFrom(Tracks.Stable) - stableCalls, upstream.CallsFrom(Tracks.Canary) - canaryCalls);
            output.WriteLine($"after the change: the upstream saw {stableAfter} calls from stable, {canaryAfter} from canary");
            Assert.True(stableAfter > 0 && canaryAfter > 0, "an agent did not call its upstream after the change");
        }
        finally
        {
            api?.Dispose();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TestPaths.TryDelete(directory);
        }
    }

    /// <summary>Sets the agent-level definitions of AgentWorker's two flags (PUT .../flags/definitions, operator key).</summary>
    private static async Task SetFlagsAsync(HttpClient client, (string Variant, int Keywords) enriched, bool upstreamCalls)
    {
        var body = $$$"""
            {"reason": "fault test", "feature_management": {"feature_flags": [
              {"id": "EnrichedOutput", "enabled": true,
               "variants": [{"name": "{{{enriched.Variant}}}", "configuration_value": {"keywordCount": {{{enriched.Keywords}}}}}],
               "allocation": {"default_when_enabled": "{{{enriched.Variant}}}"}},
              {"id": "UpstreamCalls", "enabled": {{{(upstreamCalls ? "true" : "false")}}}}]}}
            """;
        using var response = await client.PutAsync($"{AgentPath}/flags/definitions", Json.Body(body)).WaitAsync(Deadline.Request);
        Assert.True(response.IsSuccessStatusCode, $"setting the flags answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Polls the agent itself (a work item sent straight to it) until its answer shows the flag values.</summary>
    private static async Task WaitForAnswerAsync(AgentWorkerProcess agent, (string Variant, int Keywords) enriched, bool calledUpstream)
    {
        var probe = 0;
        await Deadline.PollAsync(() => agent.ProcessAsync($"probe-{agent.Name}-{enriched.Variant}-{probe++}"),
            answer => answer.Is(Enriched, enriched.Variant, enriched.Keywords, calledUpstream), TimeSpan.FromSeconds(30),
            $"{agent.Name} to answer with {enriched.Variant}, upstream {(calledUpstream ? "called" : "not called")}");
    }

    private static Dictionary<string, string?> Settings(string id, Uri rolloutApi, AgentWorkerProcess stable, AgentWorkerProcess canary) => new()
    {
        ["Gateway:Id"] = id,
        ["Gateway:Agent"] = RolloutApiFactory.Agent,
        ["Gateway:RolloutApi"] = rolloutApi.ToString(),
        ["Gateway:ApiKey"] = RolloutApiFactory.ViewerKey,
        // The names RolloutApi's table uses, resolved to the agent processes by service discovery as AppHost's references do.
        ["Gateway:Stable:Destination"] = "http://agent-stable",
        ["Gateway:Canary:Destination"] = "http://agent-canary",
        ["services:agent-stable:http:0"] = stable.Address.ToString(),
        ["services:agent-canary:http:0"] = canary.Address.ToString(),
        ["Gateway:ReconnectMinDelay"] = "00:00:00.100",
        ["Gateway:ReconnectMaxDelay"] = "00:00:01",
    };
}
