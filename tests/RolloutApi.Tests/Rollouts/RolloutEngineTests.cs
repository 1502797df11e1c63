using AgentAspire.Contracts;
using Microsoft.Extensions.DependencyInjection;
using RolloutApi.Http;
using RolloutApi.Model;
using RolloutApi.Rollouts.Analysis;
using RolloutApi.Storage;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Rollouts;

public sealed class RolloutEngineTests : IAsyncLifetime
{
    private const string Agent = RolloutApiFactory.Agent;
    private static readonly CancellationToken None = CancellationToken.None;
    private EngineHost _host = null!;

    public async Task InitializeAsync() => _host = await EngineHost.StartAsync(services => services.AddAnalysisProvider<ScriptedAnalysisProvider>());

    public async Task DisposeAsync() => await _host.DisposeAsync();


    private ScriptedAnalysisProvider Analysis => _host.Services.GetServices<IAnalysisProvider>().OfType<ScriptedAnalysisProvider>().Single();

    [Fact]
    public async Task Default_staged_rollout_walks_1_10_25_50_100_percent_with_timed_pauses_then_promotes()
    {
        var revision = await _host.CreateRevisionAsync("2.0.0");
        await _host.StartRolloutAsync(revision);
        var weights = new List<int>();
        var pauses = new List<TimeSpan>();

        var status = await _host.StatusAsync();
        while (status.State.IsActive())
        {
            var due = await _host.Reconciler.ReconcileAsync(None);
            status = await _host.StatusAsync();
            if (weights.Count == 0 || weights[^1] != _host.RoutedWeight)
            {
                weights.Add(_host.RoutedWeight);
            }

            if (due is { } next)
            {
                Assert.Equal(RolloutState.Paused, status.State);
                Assert.Equal(status.PauseEndsAt, next);
                pauses.Add(next - _host.Time.GetUtcNow());
                _host.Time.SetUtcNow(next);
            }
        }

        Assert.Equal([100, 1_000, 2_500, 5_000, 10_000, 0], weights);
        Assert.Equal([5, 5, 10, 10, 5], pauses.Select(p => (int)p.TotalMinutes));
        Assert.Equal(RolloutState.Promoted, status.State);
        var route = _host.Broadcaster.Current.Find(Agent)!;
        Assert.Equal("2.0.0", route.Stable.Version);
        Assert.Equal(RolloutApiFactory.IdleCanaryVersion, route.Canary.Version);
        var audit = await _host.AuditAsync(status.Id);
        Assert.Empty(AuditChain.Problems(audit));
        Assert.Equal(4, audit.Count(e => e.Reason.Contains("Analysis (pass) Pass", StringComparison.Ordinal)));
        Assert.Equal(TransitionActions.Promoted, audit[^1].Action);
    }

    [Fact]
    public async Task Canary_label_follows_the_rollout_and_the_driver_runs_the_canary_before_any_weight()
    {
        var revision = await _host.CreateRevisionAsync("2.0.0");
        await _host.StartRolloutAsync(revision, [RolloutStep.Weight(5_000), RolloutStep.PauseUntilPromoted()]);
        Assert.Equal("2.0.0", _host.Broadcaster.Current.Find(Agent)!.Canary.Version);

        await _host.DriveAsync(s => s.CurrentStepIndex == 1);
        await _host.Commands.PromoteAsync(Agent, null, Precondition.None, "tester", None);
        await _host.DriveAsync(s => s.State == RolloutState.Promoted);

        var calls = _host.Driver.Calls.ToList();
        Assert.True(calls.IndexOf("deploy canary r2 at weight 0") >= 0, string.Join("; ", calls));
        Assert.True(calls.IndexOf("deploy canary r2 at weight 0") < calls.IndexOf("scale canary 1 at weight 0"));
        Assert.Contains("deploy stable r2 at weight 5000", calls);
        Assert.True(calls.IndexOf("weight 5000") > calls.IndexOf("scale canary 1 at weight 0"));
        Assert.Equal(["weight 0", "scale canary 0 at weight 0"], calls[^2..]);
        Assert.Equal("2.0.0", _host.Broadcaster.Current.Find(Agent)!.Stable.Version);
    }

    [Fact]
    public async Task A_timed_pause_holds_for_exactly_its_duration()
    {
        var revision = await _host.CreateRevisionAsync("2.0.0");
        await _host.StartRolloutAsync(revision, [RolloutStep.Weight(100), RolloutStep.PauseFor(TimeSpan.FromSeconds(60)), RolloutStep.Weight(200)]);
        var paused = await _host.DriveAsync(s => s.State == RolloutState.Paused);
        var started = paused.StepStartedAt;

        _host.Time.Advance(TimeSpan.FromSeconds(59));
        var due = await _host.Reconciler.ReconcileAsync(None);
        var stillPaused = await _host.StatusAsync();
        _host.Time.Advance(TimeSpan.FromSeconds(1));
        await _host.Reconciler.ReconcileAsync(None);
        var after = await _host.StatusAsync();

        Assert.Equal(started + TimeSpan.FromSeconds(60), due);
        Assert.Equal(1, stillPaused.CurrentStepIndex);
        Assert.Equal(started, stillPaused.StepStartedAt);
        Assert.Equal(1, stillPaused.TimeInStepSeconds / 59);
        Assert.Equal(RolloutState.Promoted, after.State);
    }

    [Fact]
    public async Task Operator_pause_holds_past_the_timer_and_resume_continues_without_resetting_it()
    {
        var revision = await _host.CreateRevisionAsync("2.0.0");
        await _host.StartRolloutAsync(revision, [RolloutStep.Weight(100), RolloutStep.PauseFor(TimeSpan.FromSeconds(60)), RolloutStep.PauseUntilPromoted()]);
        var atPause = await _host.DriveAsync(s => s.CurrentStepIndex == 1);

        var paused = await _host.Commands.PauseAsync(Agent, "looking at a graph", Precondition.None, "alice", None);
        _host.Time.Advance(TimeSpan.FromMinutes(5));
        await _host.Reconciler.ReconcileAsync(None);
        var held = await _host.StatusAsync();
        var resumed = await _host.Commands.ResumeAsync(Agent, null, Precondition.None, "alice", None);
        await _host.Reconciler.ReconcileAsync(None);
        var after = await _host.StatusAsync();

        Assert.Equal(RolloutHold.Operator, paused.Value!.Hold);
        Assert.Equal(1, held.CurrentStepIndex);
        Assert.Equal(RolloutHold.Operator, held.Hold);
        Assert.Equal(atPause.StepStartedAt, resumed.Value!.StepStartedAt);
        Assert.Equal(2, after.CurrentStepIndex);
        var audit = await _host.AuditAsync(after.Id);
        Assert.Contains(audit, e => e.Action == TransitionActions.Paused && e.Actor == "alice" && e.Reason == "looking at a graph");
        Assert.Empty(AuditChain.Problems(audit));
    }

    [Fact]
    public async Task Resume_without_a_hold_and_operations_without_a_rollout_are_refused()
    {
        var none = await _host.Commands.PauseAsync(Agent, null, Precondition.None, "alice", None);
        var unknown = await _host.Commands.AbortAsync("no-such-agent", null, Precondition.None, "alice", None);
        var revision = await _host.CreateRevisionAsync("2.0.0");
        await _host.StartRolloutAsync(revision, [RolloutStep.PauseUntilPromoted()]);
        await _host.DriveAsync(s => s.CurrentStepIndex == 0);

        var resume = await _host.Commands.ResumeAsync(Agent, null, Precondition.None, "alice", None);

        Assert.Equal(ErrorKind.NotFound, none.Error!.Kind);
        Assert.Equal(ErrorKind.NotFound, unknown.Error!.Kind);
        Assert.Equal(ErrorKind.Conflict, resume.Error!.Kind);
    }

    [Fact]
    public async Task Promote_skips_an_indefinite_pause_and_promote_full_skips_everything()
    {
        var revision = await _host.CreateRevisionAsync("2.0.0");
        await _host.StartRolloutAsync(revision,
            [RolloutStep.Weight(100), RolloutStep.PauseUntilPromoted(), RolloutStep.Weight(1_000), RolloutStep.PauseUntilPromoted(), RolloutStep.Weight(5_000)]);
        await _host.DriveAsync(s => s.CurrentStepIndex == 1);
        Assert.Null(await _host.Reconciler.ReconcileAsync(None));

        await _host.Commands.PromoteAsync(Agent, null, Precondition.None, "alice", None);
        var second = await _host.DriveAsync(s => s.CurrentStepIndex == 3);
        var full = await _host.Commands.PromoteFullAsync(Agent, null, Precondition.None, "alice", None);
        var done = await _host.DriveAsync(s => !s.State.IsActive());

        Assert.Equal(1_000, second.Weight);
        Assert.Equal(5, full.Value!.StepIndex);
        Assert.Equal(RolloutState.Promoted, done.State);
        Assert.Equal(0, _host.RoutedWeight);
        Assert.DoesNotContain(await _host.AuditAsync(done.Id), e => e.To.Weight == 5_000);
    }

    [Fact]
    public async Task Abort_sets_weight_zero_and_publishes_before_it_returns()
    {
        var revision = await _host.CreateRevisionAsync("2.0.0");
        await _host.StartRolloutAsync(revision, [RolloutStep.Weight(2_500), RolloutStep.PauseUntilPromoted()]);
        await _host.DriveAsync(s => s.CurrentStepIndex == 1);
        Assert.Equal(2_500, _host.RoutedWeight);
        var revisionBefore = _host.Broadcaster.Current.Revision;

        var aborted = await _host.Commands.AbortAsync(Agent, "errors up", Precondition.None, "alice", None);

        Assert.Equal(RolloutState.Aborted, aborted.Value!.State);
        var route = _host.Broadcaster.Current.Find(Agent)!;
        Assert.Equal(0, route.Weight);
        Assert.Equal(RolloutApiFactory.IdleCanaryVersion, route.Canary.Version);
        Assert.Equal(RolloutApiFactory.StableVersion, route.Stable.Version);
        Assert.True(_host.Broadcaster.Current.Revision > revisionBefore);
        await _host.Reconciler.ReconcileAsync(None);
        Assert.Equal("scale canary 0 at weight 0", _host.Driver.Calls.Last());
        var again = await _host.Commands.AbortAsync(Agent, null, Precondition.None, "alice", None);
        Assert.Equal(aborted.Value.Version, again.Value!.Version);
    }

    [Fact]
    public async Task Retry_starts_an_aborted_rollout_over_from_its_first_step()
    {
        var revision = await _host.CreateRevisionAsync("2.0.0");
        await _host.StartRolloutAsync(revision, [RolloutStep.Weight(100), RolloutStep.PauseUntilPromoted(), RolloutStep.Weight(1_000)]);
        await _host.DriveAsync(s => s.CurrentStepIndex == 1);
        await _host.Commands.AbortAsync(Agent, null, Precondition.None, "alice", None);

        var retried = await _host.Commands.RetryAsync(Agent, null, Precondition.None, "alice", None);
        var running = await _host.DriveAsync(s => s.CurrentStepIndex == 1);
        var notAgain = await _host.Commands.RetryAsync(Agent, null, Precondition.None, "alice", None);

        Assert.Equal(RolloutRecord.Preparing, retried.Value!.StepIndex);
        Assert.Equal(RolloutState.Paused, running.State);
        Assert.Equal(100, _host.RoutedWeight);
        Assert.Equal(ErrorKind.Conflict, notAgain.Error!.Kind);
        Assert.Empty(AuditChain.Problems(await _host.AuditAsync(running.Id)));
    }

    [Fact]
    public async Task Undo_reapplies_the_previous_stable_revision_or_a_named_one()
    {
        var second = await _host.CreateRevisionAsync("2.0.0");
        await _host.StartRolloutAsync(second, [RolloutStep.Weight(100)]);
        await _host.DriveAsync(s => s.State == RolloutState.Promoted);
        var third = await _host.CreateRevisionAsync("3.0.0");
        await _host.StartRolloutAsync(third, [RolloutStep.Weight(100)]);
        await _host.DriveAsync(s => s.State == RolloutState.Promoted);

        var undo = await _host.Undo.UndoAsync(Agent, null, null, Precondition.None, "alice", None);
        var stableAfterUndo = _host.Broadcaster.Current.Find(Agent)!.Stable.Version;
        var named = await _host.Undo.UndoAsync(Agent, 1, "back to the beginning", Precondition.None, "alice", None);
        var same = await _host.Undo.UndoAsync(Agent, 1, null, Precondition.None, "alice", None);
        var missing = await _host.Undo.UndoAsync(Agent, 99, null, Precondition.None, "alice", None);

        Assert.Equal(RolloutState.RolledBack, undo.Value!.State);
        Assert.Equal(second, undo.Value.ToRevision);
        Assert.Equal("2.0.0", stableAfterUndo);
        Assert.Equal(1, named.Value!.ToRevision);
        Assert.Equal(RolloutApiFactory.StableVersion, _host.Broadcaster.Current.Find(Agent)!.Stable.Version);
        Assert.Equal(ErrorKind.Conflict, same.Error!.Kind);
        Assert.Equal(ErrorKind.Invalid, missing.Error!.Kind);
        Assert.Contains("deploy stable r1 at weight 0", _host.Driver.Calls);
    }

    [Fact]
    public async Task Undo_is_refused_while_a_rollout_is_active_and_before_any_promotion()
    {
        var noPrevious = await _host.Undo.UndoAsync(Agent, null, null, Precondition.None, "alice", None);
        var revision = await _host.CreateRevisionAsync("2.0.0");
        await _host.StartRolloutAsync(revision, [RolloutStep.PauseUntilPromoted()]);

        var whileActive = await _host.Undo.UndoAsync(Agent, 1, null, Precondition.None, "alice", None);

        Assert.Equal(ErrorKind.Conflict, noPrevious.Error!.Kind);
        Assert.Equal(ErrorKind.Conflict, whileActive.Error!.Kind);
    }

    [Fact]
    public async Task A_second_rollout_and_a_hand_set_weight_are_409_while_one_runs()
    {
        var second = await _host.CreateRevisionAsync("2.0.0");
        var third = await _host.CreateRevisionAsync("3.0.0");
        await _host.StartRolloutAsync(second, [RolloutStep.PauseUntilPromoted()]);

        var again = await _host.Commands.StartAsync(Agent, third, null, null, Precondition.None, "bob", None);
        var weight = await _host.Routing.SetWeightAsync(Agent, 100, Precondition.None, "bob", None);
        var stable = await _host.Commands.StartAsync(Agent, 1, null, null, Precondition.None, "bob", None);

        Assert.Equal(ErrorKind.Conflict, again.Error!.Kind);
        Assert.Equal(ErrorKind.Conflict, weight.Error!.Kind);
        Assert.Equal(ErrorKind.Conflict, stable.Error!.Kind);
    }

    [Fact]
    public async Task Of_two_operators_racing_with_the_same_etag_one_wins_and_the_other_gets_412()
    {
        var revision = await _host.CreateRevisionAsync("2.0.0");
        await _host.StartRolloutAsync(revision, [RolloutStep.Weight(100), RolloutStep.PauseUntilPromoted(), RolloutStep.Weight(200)]);
        var seen = await _host.DriveAsync(s => s.CurrentStepIndex == 1);
        Assert.True(Precondition.TryParse($"\"{seen.Version}\"", out var etag));

        var results = await Task.WhenAll(
            _host.Commands.PromoteAsync(Agent, null, etag, "alice", None),
            _host.Commands.AbortAsync(Agent, null, etag, "bob", None),
            _host.Commands.PauseAsync(Agent, null, etag, "carol", None));

        Assert.Single(results, r => r.Error is null);
        Assert.Equal(2, results.Count(r => r.Error?.Kind == ErrorKind.PreconditionFailed));
        var after = await _host.StatusAsync();
        Assert.Equal(seen.Version + 1, after.Version);
        Assert.Empty(AuditChain.Problems(await _host.AuditAsync(after.Id)));
    }

    [Fact]
    public async Task Stale_etags_are_refused_for_rollouts_routes_and_revision_lists()
    {
        var revision = await _host.CreateRevisionAsync("2.0.0");
        Assert.True(Precondition.TryParse("\"999\"", out var staleRoute));
        Assert.True(Precondition.TryParse("\"1\"", out var stale));
        Assert.True(Precondition.TryParse("W/\"2\"", out var weak));

        var startStale = await _host.Commands.StartAsync(Agent, revision, null, null, staleRoute, "bob", None);
        var revisionStale = await _host.Revisions.CreateAsync(Agent, "3.0.0", null, null, stale, "bob", None);
        var revisionWeak = await _host.Revisions.CreateAsync(Agent, "3.0.0", null, null, weak, "bob", None);
        await _host.StartRolloutAsync(revision, [RolloutStep.PauseUntilPromoted()]);
        var current = await _host.StatusAsync();
        Assert.True(Precondition.TryParse($"\"{current.Version + 7}\"", out var future));
        var pauseStale = await _host.Commands.PauseAsync(Agent, null, future, "bob", None);

        Assert.Equal(ErrorKind.PreconditionFailed, startStale.Error!.Kind);
        Assert.Equal(ErrorKind.PreconditionFailed, revisionStale.Error!.Kind);
        Assert.Equal(ErrorKind.PreconditionFailed, revisionWeak.Error!.Kind);
        Assert.Equal(ErrorKind.PreconditionFailed, pauseStale.Error!.Kind);
        Assert.Equal(current.Version, (await _host.StatusAsync()).Version);
    }

    [Fact]
    public async Task Analysis_fail_aborts_and_inconclusive_holds_until_resumed()
    {
        var revision = await _host.CreateRevisionAsync("2.0.0");
        RolloutStep[] steps = [RolloutStep.Weight(100), RolloutStep.Analyze(ScriptedAnalysisProvider.ProviderName), RolloutStep.Weight(1_000)];
        await _host.StartRolloutAsync(revision, steps);
        Analysis.Verdicts.Enqueue(AnalysisVerdict.Inconclusive);

        var held = await _host.DriveAsync(s => s.Hold is not null);
        Analysis.Verdicts.Enqueue(AnalysisVerdict.Fail);
        await _host.Commands.ResumeAsync(Agent, null, Precondition.None, "alice", None);
        var failed = await _host.DriveAsync(s => !s.State.IsActive());

        Assert.Equal(RolloutState.Paused, held.State);
        Assert.Equal(RolloutHold.Inconclusive, held.Hold);
        Assert.Equal(AnalysisVerdict.Inconclusive, held.LastAnalysis!.Verdict);
        Assert.Equal(100, held.Weight);
        Assert.Equal(RolloutState.Aborted, failed.State);
        Assert.Equal(AnalysisVerdict.Fail, failed.LastAnalysis!.Verdict);
        Assert.Equal(0, _host.RoutedWeight);
        Assert.All(Analysis.Requests, r => Assert.Equal(100, r.Weight));
        Assert.All(Analysis.Requests, r => Assert.Equal(revision, r.Canary.Number));
    }

    [Fact]
    public async Task Revisions_are_validated_numbered_once_and_pruned_past_the_history_limit()
    {
        await using var host = await EngineHost.StartAsync(settings: new Dictionary<string, string?> { ["RolloutApi:RevisionHistoryLimit"] = "3" });
        var revisions = host.Revisions;

        var latest = await revisions.CreateAsync(Agent, "2.0.0", "latest", null, Precondition.None, "bob", None);
        var empty = await revisions.CreateAsync(Agent, "2.0.0", "", null, Precondition.None, "bob", None);
        var badVersion = await revisions.CreateAsync(Agent, "2.0.0\n", null, null, Precondition.None, "bob", None);
        var implicitLatest = await revisions.CreateAsync(Agent, "latest", null, null, Precondition.None, "bob", None);
        for (var i = 2; i <= 6; i++)
        {
            await host.CreateRevisionAsync($"{i}.0.0");
        }

        var duplicate = await revisions.CreateAsync(Agent, "6.0.0", null, null, Precondition.None, "bob", None);
        var list = await revisions.ListAsync(Agent, None);

        Assert.Equal(ErrorKind.Invalid, latest.Error!.Kind);
        Assert.Equal(ErrorKind.Invalid, empty.Error!.Kind);
        Assert.Equal(ErrorKind.Invalid, badVersion.Error!.Kind);
        Assert.Equal(ErrorKind.Invalid, implicitLatest.Error!.Kind);
        Assert.Equal(ErrorKind.Conflict, duplicate.Error!.Kind);
        Assert.Equal([6, 5, 4, 1], list!.Value.Revisions.Select(r => r.Number));
        Assert.Equal(6, list.Value.LastRevision);
    }

    [Fact]
    public async Task Every_transition_reaches_participants_inside_its_transaction()
    {
        var participant = new RecordingParticipant();
        await using var host = await EngineHost.StartAsync(services => services.AddSingleton<ITransitionParticipant>(participant));
        var revision = await host.CreateRevisionAsync("2.0.0");
        await host.StartRolloutAsync(revision, [RolloutStep.Weight(100), RolloutStep.PauseUntilPromoted()]);
        await host.DriveAsync(s => s.CurrentStepIndex == 1);
        await host.Commands.AbortAsync(Agent, null, Precondition.None, "alice", None);

        var audit = await host.AuditAsync();

        Assert.Equal(audit.Select(e => e.Action), participant.Seen.Select(s => s.Action));
        var aborted = participant.Seen[^1];
        Assert.Equal(TransitionActions.Aborted, aborted.Action);
        Assert.Null(aborted.Assignment.CanaryRevision);
        Assert.Equal(0, aborted.Assignment.Weight);
        Assert.Equal(revision, participant.Seen.Single(s => s.Action == TransitionActions.RolloutStarted).Assignment.CanaryRevision);
        Assert.All(participant.Seen, s => Assert.True(s.InTransaction));
    }

    private sealed class RecordingParticipant : ITransitionParticipant
    {
        public List<(string Action, TrackAssignment Assignment, bool InTransaction)> Seen { get; } = [];

        public async Task OnTransitionAsync(TransitionContext context, CancellationToken cancellationToken)
        {
            // Proves the participant can read (and so write) inside the transition's own transaction: it sees its audit row.
            await using var command = context.Work.Command("SELECT count(*) FROM audit WHERE id = $id").With("$id", context.AuditId);
            var visible = await command.ScalarInt64Async(cancellationToken) == 1;
            Seen.Add((context.Transition.Action, context.Assignment, visible));
        }
    }
}
