using System.Runtime.CompilerServices;
using AgentAspire.Contracts;
using RolloutApi.Model;
using RolloutApi.Rollouts.Analysis;
using RolloutApi.Rollouts.Infrastructure;
using RolloutApi.Rollouts.Transitions;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts.Reconciling;

/// <summary>
/// One reconciler pass: moves every active rollout as far as it can go now (prepare the canary, enter steps, end pauses,
/// act on analysis verdicts, promote), then makes the tracks match the database. Each decision is made on a fresh read
/// and committed only if the rollout is still at the version it was decided on (<see cref="TryAsync"/>), so an operator
/// racing the reconciler wins and the reconciler decides again; driver calls happen outside transactions.
/// </summary>
public sealed partial class ReconcilePass(
    SqliteDatabase database,
    AgentStore agents,
    RolloutStore rollouts,
    RolloutTransitions transitions,
    StepAnalysis stepAnalysis,
    BackgroundAnalysis background,
    TrackInfrastructure infrastructure,
    TrackConvergence convergence,
    StableDrain drain,
    DriveGate gate,
    TimeProvider time,
    ILogger<ReconcilePass> logger)
{
    // A pass can take every step of a long rollout whose pauses have all elapsed (e.g. after a long outage); the bound only
    // guards against a bug turning into a busy loop.
    private const int MaxTransitionsPerPass = RolloutSteps.MaxSteps * 4;

    /// <summary>
    /// Runs a pass. Returns the earliest time something becomes due (a pause ending, a measurement), or null when only a
    /// signal can make progress.
    /// </summary>
    public async Task<DateTimeOffset?> ReconcileAsync(CancellationToken cancellationToken)
    {
        using var driving = await gate.EnterAsync(cancellationToken);
        IReadOnlyList<RolloutRecord> active;
        await using (var session = await database.ReadAsync(cancellationToken))
        {
            active = await rollouts.ListActiveAsync(session, cancellationToken);
        }

        DateTimeOffset? due = null;
        foreach (var rollout in active)
        {
            try
            {
                var next = await DriveAsync(rollout.Id, cancellationToken);
                due = Earliest(due, next);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Log.DriveFailed(logger, rollout.Agent, rollout.Id, ex);
            }
        }

        await convergence.ConvergeAsync(cancellationToken);
        return due;
    }

    private async Task<DateTimeOffset?> DriveAsync(long id, CancellationToken cancellationToken)
    {
        // The background analysis' next measurement is due whatever the steps wait for.
        var backgroundDue = new StrongBox<DateTimeOffset?>();
        var due = await DriveStepsAsync(id, backgroundDue, cancellationToken);
        return Earliest(due, backgroundDue.Value);
    }

    private async Task<DateTimeOffset?> DriveStepsAsync(long id, StrongBox<DateTimeOffset?> backgroundDue, CancellationToken cancellationToken)
    {
        for (var i = 0; i < MaxTransitionsPerPass; i++)
        {
            RolloutRecord? rollout;
            await using (var session = await database.ReadAsync(cancellationToken))
            {
                rollout = await rollouts.GetAsync(session, id, cancellationToken);
            }

            if (rollout is null || !rollout.State.IsActive() || rollout.Hold is not null)
            {
                return null;
            }

            if (rollout.StepIndex == RolloutRecord.Preparing)
            {
                await infrastructure.EnsureCanaryAsync(await RevisionSpecs.ReadAsync(database, agents, rollout.Agent, rollout.ToRevision, cancellationToken), cancellationToken);
                await TryAsync(rollout, (work, current) => transitions.EnterAsync(work, current, 0, TransitionActions.StepEntered, SystemActors.Reconciler,
                    $"Canary track runs revision {current.ToRevision}; entering step 0 ({current.Steps[0].Describe()}).", cancellationToken), cancellationToken);
                continue;
            }

            // The background analysis judges whatever step the rollout is at: a Fail aborts now, too little data holds.
            var check = await background.CheckAsync(rollout, cancellationToken);
            if (check is { Verdict: { } verdict })
            {
                await TryAsync(rollout, (work, current) => stepAnalysis.ApplyBackgroundAsync(work, current, check, verdict, cancellationToken), cancellationToken);
                continue;
            }

            if (check is { Holding: true })
            {
                return check.Due;
            }

            backgroundDue.Value = check?.Due;
            if (rollout.StepsDone)
            {
                var target = await RevisionSpecs.ReadAsync(database, agents, rollout.Agent, rollout.ToRevision, cancellationToken);
                var (restarts, weight) = await drain.NeedsDrainAsync(rollout.Agent, target, cancellationToken);
                if (restarts)
                {
                    // The stable process stops to restart on the target's build: the canary (on that build already) takes
                    // all traffic first, and every gateway must route so before stable stops; the promotion sets it back.
                    if (weight < Weights.Max)
                    {
                        await TryAsync(rollout, (work, current) => transitions.TransitionAsync(work, current, current, TransitionActions.StableDraining,
                            SystemActors.Reconciler, $"Stable restarts on build {target.Build ?? "(working copy)"}: the canary takes all traffic until it is back.",
                            Weights.Max, stableRevision: null, cancellationToken), cancellationToken);
                        continue;
                    }

                    if (!await drain.GatewaysRouteCurrentTableAsync(rollout.Agent, cancellationToken))
                    {
                        return time.GetUtcNow() + TimeSpan.FromSeconds(1);
                    }
                }

                await infrastructure.EnsureStableAsync(target, cancellationToken);
                await TryAsync(rollout, (work, current) => transitions.PromoteAsync(work, current, cancellationToken), cancellationToken);
                continue;
            }

            var step = rollout.CurrentStep!;
            if (step.Pause is { } pause)
            {
                if (pause.Duration is null)
                {
                    return null;
                }

                var endsAt = rollout.PauseEndsAt!.Value;
                if (time.GetUtcNow() < endsAt)
                {
                    return endsAt;
                }
            }

            if (step.Analysis is { } analysisStep)
            {
                var result = await stepAnalysis.AnalyzeAsync(rollout, analysisStep, cancellationToken);
                if (result is null)
                {
                    return null;
                }

                if (result.RecheckAt is { } recheck)
                {
                    // A template run still measuring: come back when its next measurement is due.
                    return recheck;
                }

                await TryAsync(rollout, (work, current) => stepAnalysis.ApplyAsync(work, current, analysisStep, result, cancellationToken), cancellationToken);
                continue;
            }

            var reason = step.Pause is { } done ? $"Pause of {done.DurationSeconds}s ended" : $"Step {rollout.StepIndex} ({step.Describe()}) done";
            await TryAsync(rollout, (work, current) => transitions.EnterAsync(work, current, current.StepIndex + 1, TransitionActions.StepEntered,
                SystemActors.Reconciler, $"{reason}; {RolloutTransitions.Entering(current, current.StepIndex + 1)}.", cancellationToken), cancellationToken);
        }

        return null;
    }

    /// <summary>Runs <paramref name="transition"/> in a transaction if the rollout is still at the version the decision was made on.</summary>
    private async Task TryAsync(
        RolloutRecord decidedOn, Func<UnitOfWork, RolloutRecord, Task<RolloutRecord>> transition, CancellationToken cancellationToken)
    {
        await using var work = await database.BeginAsync(cancellationToken);
        var current = await rollouts.GetAsync(work, decidedOn.Id, cancellationToken);
        if (current is null || current.Version != decidedOn.Version)
        {
            // An operator (or a crash-restart race) moved it first; the caller re-reads and decides again.
            return;
        }

        await transition(work, current);
        await work.CommitAsync(cancellationToken);
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null || a < b ? a : b;

    private static partial class Log
    {
        [LoggerMessage(EventId = 3011, Level = LogLevel.Error, Message = "Reconciling rollout {RolloutId} of {Agent} failed; retrying on the next pass")]
        public static partial void DriveFailed(ILogger logger, string agent, long rolloutId, Exception exception);
    }
}
