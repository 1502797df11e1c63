using System.Diagnostics;
using System.Net;
using AgentAspire.Contracts;
using RolloutApi.Model;
using RolloutApi.Rollouts;
using RolloutApi.Storage;
using RolloutApi.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RolloutApi.Tests.Durability;

/// <summary>
/// A real RolloutApi process drives rollouts with short pauses; the test SIGKILLs it at seeded random points, reads what it
/// left in SQLite, restarts it, and checks that it resumes where it stood: persisted step and pause start unchanged, the
/// routing weight matching the rollout, and an audit chain with no lost or doubled transition. Every mutation the
/// process acknowledged (2xx with an ETag) before a kill must be on disk after it, the last one included. Kills during
/// start-up are counted apart, and so are kills that came after the rollout had ended (an operator's promote): at least
/// <see cref="MidRolloutKills"/> land in a rollout the database still holds as running at the kill.
/// </summary>
public sealed class KillTests(ITestOutputHelper output)
{
    private const int Seed = 7_2026;
    private const int MidRolloutKills = 50;

    /// <summary>A bound on the loop: start-up kills (about one in ten) and kills after a promote come on top of the mid-rollout ones.</summary>
    private const int MaxIterations = 80;
    private const string AgentPath = $"/api/agents/{RolloutApiFactory.Agent}";
    private static readonly TimeSpan StartupBudget = TimeSpan.FromSeconds(60);

    /// <summary>Short pauses, an analysis and a final bake: a rollout takes ~5 s, so kills land in every kind of step.</summary>
    private static readonly string Steps = """
        [{"setWeight": 100}, {"pause": {"durationSeconds": 1}}, {"setWeight": 1000}, {"analysis": {}}, {"pause": {"durationSeconds": 2}},
         {"setWeight": 5000}, {"pause": {"durationSeconds": 1}}, {"setWeight": 10000}, {"pause": {"durationSeconds": 1}}]
        """;

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["RolloutApi:ReconcileInterval"] = "00:00:00.250",
        ["RolloutApi:RevisionHistoryLimit"] = "5",
    };

    [Fact]
    public async Task Rollouts_resume_exactly_where_a_SIGKILL_left_them()
    {
        var directory = TestPaths.NewTempDirectory();
        var database = Path.Combine(directory, "kill.db");
        var random = new Random(Seed);
        var clock = Stopwatch.StartNew();
        var started = 0;
        var kills = new Dictionary<string, int>();
        var startupKills = 0;
        var midRolloutKills = 0;
        var afterRolloutKills = 0;
        var acknowledged = 0;
        PersistedRollout? persisted = null;
        try
        {
            for (var i = 0; midRolloutKills < MidRolloutKills; i++)
            {
                Assert.True(i < MaxIterations, $"{midRolloutKills} mid-rollout kills after {i} iterations");
                using var process = RolloutApiProcess.Start(database, Settings);
                var acks = new List<Ack>();
                var killedAfter = "";
                var duringStartup = random.Next(10) == 0;
                if (duringStartup)
                {
                    // Kill during start-up: migration, registration or the reconciler's first pass.
                    await Task.Delay(TimeSpan.FromMilliseconds(random.Next(50, 600)));
                    startupKills++;
                }
                else
                {
                    await process.WaitReadyAsync(StartupBudget);
                    using var client = process.CreateClient();
                    if (persisted is not null)
                    {
                        await AssertResumedAsync(client, persisted);
                    }

                    started += await EnsureRolloutAsync(client, i, acks);
                    killedAfter = await DisturbAsync(client, random, acks);

                    // The kill point: a random moment in the rollout's life (the stimulus, not synchronisation).
                    await Task.Delay(TimeSpan.FromMilliseconds(random.Next(0, 600)));
                }

                await process.KillAsync();
                var state = await PersistedState.ReadAsync(database);
                if (!duringStartup)
                {
                    // Mid-rollout is what the file says, not what the test meant: a promote (or a rollout finishing on
                    // its own) before the kill leaves no running rollout, and that kill is counted apart.
                    if (state.Active is null)
                    {
                        afterRolloutKills++;
                        Count(kills, "after the rollout ended");
                    }
                    else
                    {
                        midRolloutKills++;
                        Count(kills, killedAfter);
                    }
                }

                var problems = state.Problems();
                problems.AddRange(acks.SelectMany(ack => ack.MissingFrom(state)));
                acknowledged += acks.Count;
                Assert.True(problems.Count == 0, $"after kill {i}: {string.Join("; ", problems)}\n{process.Output}");
                persisted = state.Active;
            }

            // One last life: let the last rollout finish, then everything must add up.
            using (var final = RolloutApiProcess.Start(database, Settings))
            {
                await final.WaitReadyAsync(StartupBudget);
                using var client = final.CreateClient();
                if (persisted is not null)
                {
                    await AssertResumedAsync(client, persisted);
                }

                var done = await Deadline.PollAsync(() => StatusAsync(client), s => s is null || !s.State.IsActive(), TimeSpan.FromSeconds(60), "the last rollout to finish");
                var table = await (await client.GetAsync(RolloutApiPaths.Routing).WaitAsync(Deadline.Request)).ReadAsync<RoutingTable>();
                Assert.Equal(0, table.Find(RolloutApiFactory.Agent)!.Weight);
                if (done?.State == RolloutState.Promoted)
                {
                    Assert.Equal(done.ToRevision!.Version, table.Find(RolloutApiFactory.Agent)!.Stable.Version);
                }

                await final.KillAsync();
            }

            var end = await PersistedState.ReadAsync(database);
            Assert.Empty(end.Problems());
            var promoted = end.Rollouts.Count(r => r.State == RolloutState.Promoted);
            output.WriteLine($"{midRolloutKills} mid-rollout kills, {startupKills} start-up kills and {afterRolloutKills} after a rollout had ended, in {clock.Elapsed.TotalSeconds:0.0}s; " +
                $"{acknowledged} acknowledged mutations all found on disk; rollouts started {started}, promoted {promoted}, " +
                $"audit entries {end.Audit.Count}; kills (start-up ones aside) after: {string.Join(", ", kills.Select(k => $"{k.Key} x{k.Value}"))}");
            Assert.True(acknowledged >= MidRolloutKills / 2, $"only {acknowledged} acknowledged mutations were checked");
            Assert.True(promoted >= 3, $"only {promoted} rollouts completed; the test did not exercise whole rollouts");
            Assert.True(end.Audit.Count(a => a.Action == TransitionActions.StepEntered) >= 50);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TestPaths.TryDelete(directory);
        }
    }

    /// <summary>
    /// Right after a restart: the rollout that was active is the same one, at the persisted version or later, and if it is still
    /// at the persisted step, that step's start time (the pause timer) is the persisted one, not the restart time.
    /// </summary>
    private static async Task AssertResumedAsync(HttpClient client, PersistedRollout persisted)
    {
        var status = (await StatusAsync(client))!;
        Assert.True(status.Id >= persisted.Id);
        if (status.Id != persisted.Id)
        {
            return;
        }

        Assert.True(status.Version >= persisted.Version, $"version went back from {persisted.Version} to {status.Version}");
        if (status.CurrentStepIndex == persisted.Step)
        {
            Assert.Equal(persisted.StepStartedAt, status.StepStartedAt);
        }
        else
        {
            Assert.True(status.CurrentStepIndex > persisted.Step || status.CurrentStepIndex == RolloutRecord.Preparing || !status.State.IsActive(),
                $"step went back from {persisted.Step} to {status.CurrentStepIndex}");
        }
    }

    /// <summary>Starts a rollout to a fresh revision unless one is active. Returns 1 if it started one.</summary>
    private static async Task<int> EnsureRolloutAsync(HttpClient client, int iteration, List<Ack> acks)
    {
        if (await StatusAsync(client) is { } status && status.State.IsActive())
        {
            return 0;
        }

        using var revision = await client.PostAsync($"{AgentPath}/revisions", Json.Body($$"""{"version": "2.{{iteration}}.0"}""")).WaitAsync(Deadline.Request);
        Assert.Equal(HttpStatusCode.Created, revision.StatusCode);
        var created = await revision.ReadAsync<RevisionView>();
        acks.Add(Ack.Revision(revision, created));
        using var rollout = await client.PostAsync($"{AgentPath}/rollouts", Json.Body($$"""{"revision": {{created.Number}}, "steps": {{Steps}}}"""))
            .WaitAsync(Deadline.Request);
        Assert.Equal(HttpStatusCode.Created, rollout.StatusCode);
        acks.Add(Ack.Rollout("start", rollout, await rollout.ReadAsync<RolloutStatus>()));
        return 1;
    }

    /// <summary>Sometimes an operator acts too, so that kills also land around operator transitions.</summary>
    private static async Task<string> DisturbAsync(HttpClient client, Random random, List<Ack> acks)
    {
        var roll = random.Next(100);
        string[] operations = roll switch
        {
            < 10 => ["pause", "resume"],
            < 15 => ["abort", "retry"],
            < 20 => ["promote"],
            _ => [],
        };
        foreach (var operation in operations)
        {
            using var response = await client.PostAsync($"{AgentPath}/rollout/{operation}", null).WaitAsync(Deadline.Request);
            // 409 is fine: the rollout may have moved on (e.g. finished) between the two calls.
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict, $"{operation}: {response.StatusCode}");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                acks.Add(Ack.Rollout(operation, response, await response.ReadAsync<RolloutStatus>()));
            }
        }

        return operations.Length == 0 ? "reconciler only" : string.Join("+", operations);
    }

    private static async Task<RolloutStatus?> StatusAsync(HttpClient client)
    {
        using var response = await client.GetAsync($"{AgentPath}/rollout").WaitAsync(Deadline.Request);
        return response.StatusCode == HttpStatusCode.NotFound ? null : await response.ReadAsync<RolloutStatus>();
    }

    private static void Count(Dictionary<string, int> counts, string key) => counts[key] = counts.GetValueOrDefault(key) + 1;

    /// <summary>
    /// A mutation the process acknowledged: its status code, its ETag and what the body said. After a kill it must be on
    /// disk: the revision row, or the rollout at that version or later (and, at exactly that version, in the state the
    /// client was told; later, with an audit entry that reached that state).
    /// </summary>
    private sealed record Ack(string What, int Status, string? ETag, long? RolloutId, long Version, RolloutState? State, RolloutHold? Hold,
        int? RevisionNumber, string? RevisionVersion)
    {
        public static Ack Revision(HttpResponseMessage response, RevisionView revision)
        {
            var etag = response.Headers.ETag?.Tag;
            Assert.Equal($"\"{revision.Number}\"", etag);
            return new("revision", (int)response.StatusCode, etag, null, revision.Number, null, null, revision.Number, revision.Version);
        }

        public static Ack Rollout(string what, HttpResponseMessage response, RolloutStatus status)
        {
            var etag = response.Headers.ETag?.Tag;
            Assert.Equal($"\"{status.Version}\"", etag);
            return new(what, (int)response.StatusCode, etag, status.Id, status.Version, status.State, status.Hold, null, null);
        }

        public IEnumerable<string> MissingFrom(PersistedState state)
        {
            if (RevisionNumber is { } number)
            {
                if (!state.Revisions.TryGetValue(number, out var version) || version != RevisionVersion)
                {
                    yield return $"acknowledged {this} but revision {number} is not on disk as {RevisionVersion}";
                }

                yield break;
            }

            var rollout = state.Rollouts.SingleOrDefault(r => r.Id == RolloutId);
            if (rollout is null)
            {
                yield return $"acknowledged {this} but rollout {RolloutId} is not on disk";
            }
            else if (rollout.Version < Version)
            {
                yield return $"acknowledged {this} but rollout {RolloutId} is on disk at version {rollout.Version} (lost write)";
            }
            else if (rollout.Version == Version && (rollout.State != State || rollout.Hold != Hold?.ToString()))
            {
                yield return $"acknowledged {this} but rollout {RolloutId} is on disk at that version as {rollout.State}/{rollout.Hold}";
            }
            else if (!state.Audit.Any(a => a.RolloutId == RolloutId && a.To.State == State.ToString()))
            {
                yield return $"acknowledged {this} but no audit entry of rollout {RolloutId} reached {State}";
            }
        }

        public override string ToString() => $"{What} ({Status}, ETag {ETag}, {State} {Hold})";
    }
}
