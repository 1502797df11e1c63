using AgentAspire.Contracts;
using RolloutApi.Model;
using RolloutApi.Rollouts.Analysis;
using RolloutApi.Routing;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts.Transitions;

/// <summary>
/// The transition writers: every change of a rollout is written here, inside the caller's transaction (the caller checks
/// first, on state read in that same transaction, and commits after). One transition writes the rollout row (version + 1),
/// the weight and stable revision when they change, the route (published once the transaction commits) and exactly one
/// audit entry, whose participants (analysis runs, the notification outbox, flags) write in the same transaction. A
/// committed transition wakes the reconciler.
/// </summary>
public sealed partial class RolloutTransitions(
    AgentStore agents,
    RolloutStore rollouts,
    RoutingTableWriter routing,
    TransitionRecorder recorder,
    BackgroundAnalysis background,
    ReconcilerSignal signal,
    ILogger<RolloutTransitions> logger)
{
    /// <summary>
    /// Inserts a new rollout (step <see cref="RolloutRecord.Preparing"/>) with its background analysis, if any. The rollout
    /// owns the weight from here on, so a hand-set weight does not leak into the new canary version.
    /// </summary>
    public async Task<RolloutRecord> StartAsync(
        UnitOfWork work, RolloutRecord record, AgentRoute before, string? backgroundTemplate, CancellationToken cancellationToken)
    {
        record = record with { Id = await rollouts.InsertAsync(work, record, cancellationToken) };
        if (backgroundTemplate is not null)
        {
            await background.StartAsync(work, record, backgroundTemplate, cancellationToken);
        }

        await agents.SetWeightAsync(work, record.Agent, 0, cancellationToken);
        await routing.ApplyAsync(work, record.Agent, before, cancellationToken);
        await recorder.RecordAsync(work, new Transition(
            record.Agent, TransitionActions.RolloutStarted, record.CreatedBy, record.Message, record.Id,
            new TransitionPoint(null, null, before.Weight), new TransitionPoint(record.State.ToString(), record.StepIndex, 0), record.ToRevision),
            cancellationToken);
        work.OnCommitted(signal.Signal);
        return record;
    }

    /// <summary>Records an undo: a new <see cref="RolloutState.RolledBack"/> rollout, its target stable, weight 0.</summary>
    public async Task<RolloutRecord> RolledBackAsync(UnitOfWork work, RolloutRecord record, AgentRoute before, CancellationToken cancellationToken)
    {
        record = record with { Id = await rollouts.InsertAsync(work, record, cancellationToken) };
        await agents.SetStableRevisionAsync(work, record.Agent, record.ToRevision, cancellationToken);
        await agents.SetWeightAsync(work, record.Agent, 0, cancellationToken);
        await routing.ApplyAsync(work, record.Agent, before, cancellationToken);
        await recorder.RecordAsync(work, new Transition(
            record.Agent, TransitionActions.RolledBack, record.CreatedBy, record.Message, record.Id,
            new TransitionPoint(null, null, before.Weight), new TransitionPoint(record.State.ToString(), null, 0), record.ToRevision),
            cancellationToken);
        work.OnCommitted(signal.Signal);
        return record;
    }

    /// <summary>Enters step <paramref name="index"/> (or, at the step count, marks every step done so promotion follows).</summary>
    public Task<RolloutRecord> EnterAsync(
        UnitOfWork work, RolloutRecord rollout, int index, string action, string actor, string reason, CancellationToken cancellationToken)
    {
        var next = rollout with
        {
            State = RolloutRecord.StateAt(rollout.Steps, index),
            StepIndex = Math.Min(index, rollout.Steps.Count),
            StepStartedAt = work.Now,
            Hold = null,
        };
        return TransitionAsync(work, rollout, next, action, actor, reason, next.CurrentStep?.SetWeight, stableRevision: null, cancellationToken);
    }

    /// <summary>Weight 0 in this transaction: no new request reaches the canary once it commits.</summary>
    public Task<RolloutRecord> AbortAsync(UnitOfWork work, RolloutRecord rollout, string actor, string reason, CancellationToken cancellationToken)
    {
        Log.Aborted(logger, rollout.Agent, rollout.Id, reason);
        return TransitionAsync(work, rollout, rollout with { State = RolloutState.Aborted, Hold = null, CompletedAt = work.Now },
            TransitionActions.Aborted, actor, reason, weight: 0, stableRevision: null, cancellationToken);
    }

    /// <summary>Holds the rollout because an analysis could not decide (resume runs it again, promote skips it).</summary>
    public Task<RolloutRecord> HoldInconclusiveAsync(UnitOfWork work, RolloutRecord rollout, string reason, CancellationToken cancellationToken) =>
        TransitionAsync(work, rollout, rollout with { State = RolloutState.Paused, Hold = RolloutHold.Inconclusive },
            TransitionActions.AnalysisInconclusive, SystemActors.Reconciler, reason, weight: null, stableRevision: null, cancellationToken);

    /// <summary>The target revision becomes stable and the canary weight returns to 0 (the stable track already runs it).</summary>
    public async Task<RolloutRecord> PromoteAsync(UnitOfWork work, RolloutRecord rollout, CancellationToken cancellationToken)
    {
        var target = await agents.GetRevisionAsync(work, rollout.Agent, rollout.ToRevision, cancellationToken);
        var next = rollout with { State = RolloutState.Promoted, Hold = null, CompletedAt = work.Now };
        var promoted = await TransitionAsync(work, rollout, next, TransitionActions.Promoted, SystemActors.Reconciler,
            $"Revision {rollout.ToRevision} ({target?.Version}) is now stable; canary weight back to 0.", weight: 0, stableRevision: rollout.ToRevision,
            cancellationToken);
        Log.Promoted(logger, rollout.Agent, rollout.Id, rollout.ToRevision);
        return promoted;
    }

    /// <summary>Writes <paramref name="next"/> (version + 1), the weight and stable revision if given, the route and one audit entry.</summary>
    public async Task<RolloutRecord> TransitionAsync(
        UnitOfWork work, RolloutRecord rollout, RolloutRecord next, string action, string actor, string reason, int? weight, int? stableRevision,
        CancellationToken cancellationToken)
    {
        var before = (await routing.ReadAsync(work, rollout.Agent, cancellationToken))!;
        if (weight is { } newWeight)
        {
            await agents.SetWeightAsync(work, rollout.Agent, newWeight, cancellationToken);
        }

        if (stableRevision is { } stable)
        {
            await agents.SetStableRevisionAsync(work, rollout.Agent, stable, cancellationToken);
        }

        next = next with { Version = rollout.Version + 1, Message = reason, UpdatedAt = work.Now };
        await rollouts.UpdateAsync(work, next, cancellationToken);
        var route = await routing.ApplyAsync(work, rollout.Agent, before, cancellationToken);
        await recorder.RecordAsync(work, new Transition(
            rollout.Agent, action, actor, reason, rollout.Id,
            new TransitionPoint(rollout.State.ToString(), rollout.StepIndex, before.Weight),
            new TransitionPoint(next.State.ToString(), next.StepIndex, route.Weight),
            next.ToRevision), cancellationToken);
        work.OnCommitted(signal.Signal);
        return next;
    }

    /// <summary>How an audit reason names the step a rollout enters next.</summary>
    public static string Entering(RolloutRecord rollout, int index) =>
        index >= rollout.Steps.Count ? "all steps done, promoting" : $"entering step {index} ({rollout.Steps[index].Describe()})";

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Rollout {RolloutId} of {Agent} promoted revision {Revision} to stable")]
        public static partial void Promoted(ILogger logger, string agent, long rolloutId, int revision);

        [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Rollout {RolloutId} of {Agent} aborted: {Reason}")]
        public static partial void Aborted(ILogger logger, string agent, long rolloutId, string reason);
    }
}
