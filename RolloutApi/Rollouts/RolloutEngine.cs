using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using RolloutApi.Drivers;
using RolloutApi.Rollouts.Analysis;
using RolloutApi.Routing;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts;

/// <summary>
/// The rollout state machine. Operators' operations and the reconciler's steps all go through here; each transition is
/// one SQLite transaction (rollout row, weight, stable revision, routing revision, one audit entry, participants) whose
/// checks run on state read inside that same transaction, so nothing is lost or applied twice and a stale
/// <c>If-Match</c> is refused. Driver and analysis calls happen outside transactions.
/// </summary>
public sealed partial class RolloutEngine(
    SqliteDatabase database,
    AgentStore agents,
    RolloutStore rollouts,
    RoutingTableWriter routing,
    TransitionRecorder recorder,
    TrackInfrastructure infrastructure,
    AnalysisProviders analysis,
    AnalysisTemplates templates,
    BackgroundAnalysis background,
    ReconcilerSignal signal,
    IOptions<AnalysisOptions> analysisOptions,
    TimeProvider time,
    ILogger<RolloutEngine> logger)
{
    public const int MaxReasonLength = 500;

    // A pass can take every step of a long rollout whose pauses have all elapsed (e.g. after a long outage); the bound only
    // guards against a bug turning into a busy loop.
    private const int MaxTransitionsPerPass = RolloutSteps.MaxSteps * 4;

    // Serialises the sequences that call the driver and then commit (reconciler passes, undo), so that one never
    // re-applies the other's half-finished state. Abort and the other operations do not take it: they only write the database.
    private readonly SemaphoreSlim _driveGate = new(1, 1);

    // ---------------------------------------------------------------- operations

    /// <summary>
    /// Starts a rollout from the stable revision to <paramref name="revision"/> (default steps when none are given), with
    /// <paramref name="backgroundTemplate"/> (if any) analysed in the background from its first step to promotion.
    /// </summary>
    public async Task<Outcome<RolloutRecord>> StartAsync(
        string agent, int revision, IReadOnlyList<RolloutStep>? steps, string? reason, Precondition precondition, string actor,
        CancellationToken cancellationToken, string? backgroundTemplate = null)
    {
        var chosen = steps ?? RolloutSteps.Default;
        var stepErrors = RolloutSteps.Validate(chosen, analysis.IsKnown);
        if (stepErrors.Count > 0)
        {
            return new OperationError(ErrorKind.Invalid, "Invalid steps", "The step list is not valid; see errors.", stepErrors);
        }

        if (CheckReason(reason) is { } reasonError)
        {
            return reasonError;
        }

        await using var work = await database.BeginAsync(cancellationToken);
        var agentRecord = await agents.GetAgentAsync(work, agent, cancellationToken);
        if (agentRecord is null)
        {
            return OperationError.AgentNotFound(agent);
        }

        var before = await routing.ReadAsync(work, agent, cancellationToken);
        if (!precondition.IsSatisfiedBy(before!.Revision))
        {
            return OperationError.Stale("route", before.Revision);
        }

        if (await agents.ActiveRolloutIdAsync(work, agent, cancellationToken) is { } active)
        {
            return OperationError.Conflict($"Rollout {active} is still active; one rollout per agent at a time (abort or finish it first).");
        }

        var target = await agents.GetRevisionAsync(work, agent, revision, cancellationToken);
        if (target is null)
        {
            return OperationError.Invalid("revision", $"Revision {revision} does not exist for agent '{agent}' (create it first).");
        }

        if (revision == agentRecord.StableRevision)
        {
            return OperationError.Conflict($"Revision {revision} is already the stable revision.");
        }

        for (var i = 0; i < chosen.Count; i++)
        {
            if (chosen[i].Analysis?.Template is { } stepTemplate && await templates.ResolveAsync(work, agent, stepTemplate, null, cancellationToken) is null)
            {
                return OperationError.Invalid($"steps[{i}].analysis.template", $"Agent '{agent}' has no analysis template named '{stepTemplate}'.");
            }
        }

        if (backgroundTemplate is not null && await templates.ResolveAsync(work, agent, backgroundTemplate, null, cancellationToken) is null)
        {
            return OperationError.Invalid("analysis.template", $"Agent '{agent}' has no analysis template named '{backgroundTemplate}'.");
        }

        var message = reason ?? $"Rollout from revision {agentRecord.StableRevision} to {revision} ({target.Version}) in {chosen.Count} steps"
            + (backgroundTemplate is null ? "." : $", background analysis '{backgroundTemplate}'.");
        var record = new RolloutRecord(
            0, agent, agentRecord.StableRevision, revision, [.. chosen], RolloutState.Progressing, RolloutRecord.Preparing, work.Now,
            null, 1, message, work.Now, actor, work.Now, null);
        record = record with { Id = await rollouts.InsertAsync(work, record, cancellationToken) };
        if (backgroundTemplate is not null)
        {
            await background.StartAsync(work, record, backgroundTemplate, cancellationToken);
        }

        // The rollout owns the weight from here on: a hand-set weight does not leak into the new canary version.
        await agents.SetWeightAsync(work, agent, 0, cancellationToken);
        await routing.ApplyAsync(work, agent, before, cancellationToken);
        await recorder.RecordAsync(work, new Transition(
            agent, TransitionActions.RolloutStarted, actor, message, record.Id,
            new TransitionPoint(null, null, before.Weight), new TransitionPoint(record.State.ToString(), record.StepIndex, 0), revision),
            cancellationToken);
        work.OnCommitted(signal.Signal);
        await work.CommitAsync(cancellationToken);
        Log.Started(logger, agent, record.Id, revision);
        return record;
    }

    /// <summary>Holds an active rollout where it is (timers keep running; it moves on after resume).</summary>
    public Task<Outcome<RolloutRecord>> PauseAsync(string agent, string? reason, Precondition precondition, string actor, CancellationToken cancellationToken) =>
        OperateAsync(agent, reason, precondition, async (work, rollout) =>
        {
            if (!rollout.State.IsActive())
            {
                return NotActive(rollout, "paused");
            }

            if (rollout.Hold == RolloutHold.Operator)
            {
                return rollout;
            }

            return await TransitionAsync(work, rollout, rollout with { State = RolloutState.Paused, Hold = RolloutHold.Operator },
                TransitionActions.Paused, actor, reason ?? $"Paused by {actor}.", weight: null, stableRevision: null, cancellationToken);
        }, cancellationToken);

    /// <summary>Releases a hold (an operator's pause or an inconclusive analysis, which then runs again).</summary>
    public Task<Outcome<RolloutRecord>> ResumeAsync(string agent, string? reason, Precondition precondition, string actor, CancellationToken cancellationToken) =>
        OperateAsync(agent, reason, precondition, async (work, rollout) =>
        {
            if (!rollout.State.IsActive())
            {
                return NotActive(rollout, "resumed");
            }

            if (rollout.Hold is null)
            {
                return OperationError.Conflict(
                    "The rollout is not held. A timed pause step ends on its own; promote skips the current step.");
            }

            var state = RolloutRecord.StateAt(rollout.Steps, rollout.StepIndex);
            return await TransitionAsync(work, rollout, rollout with { State = state, Hold = null },
                TransitionActions.Resumed, actor, reason ?? $"Resumed by {actor}.", weight: null, stableRevision: null, cancellationToken);
        }, cancellationToken);

    /// <summary>Skips the current step (ends a pause, skips an analysis) and enters the next one.</summary>
    public Task<Outcome<RolloutRecord>> PromoteAsync(string agent, string? reason, Precondition precondition, string actor, CancellationToken cancellationToken) =>
        OperateAsync(agent, reason, precondition, async (work, rollout) =>
        {
            if (!rollout.State.IsActive())
            {
                return NotActive(rollout, "promoted");
            }

            if (rollout.StepIndex == RolloutRecord.Preparing)
            {
                return OperationError.Conflict("The canary track is still being prepared; promote once step 0 has been entered (or use promote-full).");
            }

            if (rollout.StepsDone)
            {
                return rollout;
            }

            var skipped = rollout.CurrentStep!.Describe();
            return await EnterAsync(work, rollout, rollout.StepIndex + 1, TransitionActions.StepPromoted, actor,
                reason ?? $"{actor} promoted past step {rollout.StepIndex} ({skipped}).", cancellationToken);
        }, cancellationToken);

    /// <summary>Skips every remaining step: the canary revision is promoted to stable as soon as the reconciler runs.</summary>
    public Task<Outcome<RolloutRecord>> PromoteFullAsync(string agent, string? reason, Precondition precondition, string actor, CancellationToken cancellationToken) =>
        OperateAsync(agent, reason, precondition, async (work, rollout) =>
        {
            if (!rollout.State.IsActive())
            {
                return NotActive(rollout, "promoted");
            }

            if (rollout.StepsDone)
            {
                return rollout;
            }

            return await EnterAsync(work, rollout, rollout.Steps.Count, TransitionActions.PromotedFull, actor,
                reason ?? $"{actor} skipped the remaining steps; promoting revision {rollout.ToRevision}.", cancellationToken);
        }, cancellationToken);

    /// <summary>Sends no more traffic to the canary: weight 0 in the same transaction, published before this returns.</summary>
    public Task<Outcome<RolloutRecord>> AbortAsync(string agent, string? reason, Precondition precondition, string actor, CancellationToken cancellationToken) =>
        OperateAsync(agent, reason, precondition, async (work, rollout) =>
        {
            if (rollout.State == RolloutState.Aborted)
            {
                return rollout;
            }

            if (!rollout.State.IsActive())
            {
                return NotActive(rollout, "aborted");
            }

            return await AbortInAsync(work, rollout, actor, reason ?? $"Aborted by {actor}.", cancellationToken);
        }, cancellationToken);

    /// <summary>Starts an aborted rollout over from its first step (same target revision and steps).</summary>
    public Task<Outcome<RolloutRecord>> RetryAsync(string agent, string? reason, Precondition precondition, string actor, CancellationToken cancellationToken) =>
        OperateAsync(agent, reason, precondition, async (work, rollout) =>
        {
            if (rollout.State != RolloutState.Aborted)
            {
                return OperationError.Conflict($"Rollout {rollout.Id} is {rollout.State}; only an aborted rollout can be retried.");
            }

            var agentRecord = (await agents.GetAgentAsync(work, agent, cancellationToken))!;
            if (agentRecord.StableRevision == rollout.ToRevision)
            {
                return OperationError.Conflict($"Revision {rollout.ToRevision} is already stable; start a new rollout instead.");
            }

            var next = rollout with
            {
                FromRevision = agentRecord.StableRevision,
                State = RolloutState.Progressing,
                StepIndex = RolloutRecord.Preparing,
                StepStartedAt = work.Now,
                Hold = null,
                CompletedAt = null,
            };
            return await TransitionAsync(work, rollout, next, TransitionActions.Retried, actor,
                reason ?? $"{actor} retried the rollout to revision {rollout.ToRevision}.", weight: 0, stableRevision: null, cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Re-applies an earlier revision on the stable track (the previous stable revision by default): the stable track is
    /// switched first, then the new state is committed as a <see cref="RolloutState.RolledBack"/> rollout with weight 0.
    /// </summary>
    public async Task<Outcome<RolloutRecord>> UndoAsync(
        string agent, int? revision, string? reason, Precondition precondition, string actor, CancellationToken cancellationToken)
    {
        if (CheckReason(reason) is { } reasonError)
        {
            return reasonError;
        }

        await _driveGate.WaitAsync(cancellationToken);
        try
        {
            RevisionRecord target;
            await using (var session = await database.ReadAsync(cancellationToken))
            {
                var checkedTarget = await CheckUndoAsync(session, agent, revision, precondition, cancellationToken);
                if (checkedTarget.Error is { } error)
                {
                    return error;
                }

                target = checkedTarget.Value!;
            }

            // Outside the transaction: the stable track must serve the target before traffic returns to it.
            await infrastructure.EnsureStableAsync(Spec(target), cancellationToken);

            await using var work = await database.BeginAsync(cancellationToken);
            var recheck = await CheckUndoAsync(work, agent, revision, precondition, cancellationToken);
            if (recheck.Error is { } raced)
            {
                signal.Signal();
                return raced;
            }

            var agentRecord = (await agents.GetAgentAsync(work, agent, cancellationToken))!;
            var before = await routing.ReadAsync(work, agent, cancellationToken);
            var message = reason ?? $"{actor} re-applied revision {target.Number} ({target.Version}) in place of revision {agentRecord.StableRevision}.";
            var record = new RolloutRecord(
                0, agent, agentRecord.StableRevision, target.Number, [], RolloutState.RolledBack, 0, work.Now, null, 1, message,
                work.Now, actor, work.Now, work.Now);
            record = record with { Id = await rollouts.InsertAsync(work, record, cancellationToken) };
            await agents.SetStableRevisionAsync(work, agent, target.Number, cancellationToken);
            await agents.SetWeightAsync(work, agent, 0, cancellationToken);
            await routing.ApplyAsync(work, agent, before, cancellationToken);
            await recorder.RecordAsync(work, new Transition(
                agent, TransitionActions.RolledBack, actor, message, record.Id,
                new TransitionPoint(null, null, before!.Weight), new TransitionPoint(record.State.ToString(), null, 0), target.Number),
                cancellationToken);
            work.OnCommitted(signal.Signal);
            await work.CommitAsync(cancellationToken);
            Log.RolledBack(logger, agent, target.Number);
            return record;
        }
        finally
        {
            _driveGate.Release();
        }
    }

    // ---------------------------------------------------------------- reconciler

    /// <summary>
    /// One reconciler pass: moves every active rollout as far as it can go now, then makes the tracks match the database.
    /// Returns the earliest time something becomes due (a pause ending), or null when only a signal can make progress.
    /// </summary>
    public async Task<DateTimeOffset?> ReconcileAsync(CancellationToken cancellationToken)
    {
        await _driveGate.WaitAsync(cancellationToken);
        try
        {
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
                    due = next is null ? due : due is null || next < due ? next : due;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    Log.DriveFailed(logger, rollout.Agent, rollout.Id, ex);
                }
            }

            await ConvergeTracksAsync(cancellationToken);
            return due;
        }
        finally
        {
            _driveGate.Release();
        }
    }

    private async Task<DateTimeOffset?> DriveAsync(long id, CancellationToken cancellationToken)
    {
        // The background analysis' next measurement is due whatever the steps wait for.
        var backgroundDue = new StrongBox<DateTimeOffset?>();
        var due = await DriveStepsAsync(id, backgroundDue, cancellationToken);
        var next = backgroundDue.Value;
        return due is null ? next : next is null || due < next ? due : next;
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
                await infrastructure.EnsureCanaryAsync(await SpecAsync(rollout.Agent, rollout.ToRevision, cancellationToken), cancellationToken);
                await TryAsync(rollout, (work, current) => EnterAsync(work, current, 0, TransitionActions.StepEntered, SystemActors.Reconciler,
                    $"Canary track runs revision {current.ToRevision}; entering step 0 ({current.Steps[0].Describe()}).", cancellationToken), cancellationToken);
                continue;
            }

            // The background analysis judges whatever step the rollout is at: a Fail aborts now, too little data holds.
            var check = await background.CheckAsync(rollout, cancellationToken);
            if (check is { Verdict: { } verdict })
            {
                await TryAsync(rollout, (work, current) => ApplyBackgroundAsync(work, current, check, verdict, cancellationToken), cancellationToken);
                continue;
            }

            if (check is { Holding: true })
            {
                return check.Due;
            }

            backgroundDue.Value = check?.Due;
            if (rollout.StepsDone)
            {
                await infrastructure.EnsureStableAsync(await SpecAsync(rollout.Agent, rollout.ToRevision, cancellationToken), cancellationToken);
                await TryAsync(rollout, (work, current) => CompleteAsync(work, current, cancellationToken), cancellationToken);
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
                var result = await AnalyzeAsync(rollout, analysisStep, cancellationToken);
                if (result is null)
                {
                    return null;
                }

                if (result.RecheckAt is { } recheck)
                {
                    // A template run still measuring: come back when its next measurement is due.
                    return recheck;
                }

                await TryAsync(rollout, (work, current) => ApplyAnalysisAsync(work, current, analysisStep, result, cancellationToken), cancellationToken);
                continue;
            }

            var reason = step.Pause is { } done ? $"Pause of {done.DurationSeconds}s ended" : $"Step {rollout.StepIndex} ({step.Describe()}) done";
            await TryAsync(rollout, (work, current) => EnterAsync(work, current, current.StepIndex + 1, TransitionActions.StepEntered,
                SystemActors.Reconciler, $"{reason}; {Entering(current, current.StepIndex + 1)}.", cancellationToken), cancellationToken);
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

    private async Task<AnalysisResult?> AnalyzeAsync(RolloutRecord rollout, AnalysisStep step, CancellationToken cancellationToken)
    {
        var provider = analysis.For(step);
        try
        {
            AnalysisRequest request;
            await using (var session = await database.ReadAsync(cancellationToken))
            {
                var agentRecord = (await agents.GetAgentAsync(session, rollout.Agent, cancellationToken))!;
                var stable = await agents.GetRevisionAsync(session, rollout.Agent, agentRecord.StableRevision, cancellationToken);
                var canary = await agents.GetRevisionAsync(session, rollout.Agent, rollout.ToRevision, cancellationToken);
                var since = await rollouts.LastWeightChangeAsync(session, rollout.Id, cancellationToken) ?? rollout.StepStartedAt;
                request = new AnalysisRequest(rollout.Agent, rollout.Id, rollout.StepIndex, Spec(stable!), Spec(canary!),
                    agentRecord.Weight, since, time.GetUtcNow())
                {
                    Template = step.Template,
                    RolloutVersion = rollout.Version,
                };
            }

            using var timeout = new CancellationTokenSource(analysisOptions.Value.Timeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            return await provider.AnalyzeAsync(request, linked.Token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // "Could not ask" is not a verdict: stay Analyzing and ask again on the next pass.
            Log.AnalysisFailed(logger, provider.Name, rollout.Agent, rollout.Id, ex);
            return null;
        }
    }

    private async Task<RolloutRecord> ApplyAnalysisAsync(
        UnitOfWork work, RolloutRecord rollout, AnalysisStep step, AnalysisResult result, CancellationToken cancellationToken)
    {
        var providerName = analysis.For(step).Name;
        await rollouts.InsertAnalysisRunAsync(work, new AnalysisRunRecord(
            0, rollout.Id, rollout.StepIndex, providerName, result.Verdict, result.Summary, work.Now), cancellationToken);
        var summary = $"Analysis ({providerName}) {result.Verdict}: {result.Summary.TrimEnd('.', ' ')}";
        return result.Verdict switch
        {
            AnalysisVerdict.Pass => await EnterAsync(work, rollout, rollout.StepIndex + 1, TransitionActions.StepEntered, SystemActors.Reconciler,
                $"{summary}; {Entering(rollout, rollout.StepIndex + 1)}.", cancellationToken),
            AnalysisVerdict.Fail => await AbortInAsync(work, rollout, SystemActors.Reconciler, summary, cancellationToken),
            _ => await TransitionAsync(work, rollout, rollout with { State = RolloutState.Paused, Hold = RolloutHold.Inconclusive },
                TransitionActions.AnalysisInconclusive, SystemActors.Reconciler,
                $"{summary}; held: resume to re-run the analysis, promote to skip it.", weight: null, stableRevision: null, cancellationToken),
        };
    }

    private async Task<RolloutRecord> ApplyBackgroundAsync(
        UnitOfWork work, RolloutRecord rollout, BackgroundDecision check, AnalysisVerdict verdict, CancellationToken cancellationToken)
    {
        await background.ActedOnAsync(work, check.RunId, cancellationToken);
        var summary = $"Background analysis ({check.Template}) {verdict}: {check.Summary.TrimEnd('.', ' ')}";
        return verdict == AnalysisVerdict.Fail
            ? await AbortInAsync(work, rollout, SystemActors.Reconciler, Truncate(summary), cancellationToken)
            : await TransitionAsync(work, rollout, rollout with { State = RolloutState.Paused, Hold = RolloutHold.Inconclusive },
                TransitionActions.AnalysisInconclusive, SystemActors.Reconciler,
                Truncate($"{summary}; held: resume to analyse again, promote to skip the step, or abort."), weight: null, stableRevision: null, cancellationToken);
    }

    // Audit reasons stay readable; the full measurement is in the analysis run.
    private static string Truncate(string reason) => reason.Length <= 2 * MaxReasonLength ? reason : reason[..(2 * MaxReasonLength)] + "…";

    private async Task<RolloutRecord> CompleteAsync(UnitOfWork work, RolloutRecord rollout, CancellationToken cancellationToken)
    {
        var target = await agents.GetRevisionAsync(work, rollout.Agent, rollout.ToRevision, cancellationToken);
        var next = rollout with { State = RolloutState.Promoted, Hold = null, CompletedAt = work.Now };
        var promoted = await TransitionAsync(work, rollout, next, TransitionActions.Promoted, SystemActors.Reconciler,
            $"Revision {rollout.ToRevision} ({target?.Version}) is now stable; canary weight back to 0.", weight: 0, stableRevision: rollout.ToRevision,
            cancellationToken);
        Log.Promoted(logger, rollout.Agent, rollout.Id, rollout.ToRevision);
        return promoted;
    }

    /// <summary>
    /// Makes each agent's infrastructure match the database: the stable track runs the stable revision, the driver knows the
    /// committed weight, and the canary track runs the active rollout's target or idles. Every committed mutation signals a
    /// pass, so this follows each change promptly (weights committed within one pass are coalesced to the latest).
    /// </summary>
    private async Task ConvergeTracksAsync(CancellationToken cancellationToken)
    {
        List<(RevisionSpec Stable, int Weight, RevisionSpec? Canary)> desired = [];
        await using (var session = await database.ReadAsync(cancellationToken))
        {
            var active = (await rollouts.ListActiveAsync(session, cancellationToken)).ToDictionary(r => r.Agent);
            foreach (var agentRecord in await agents.ListAgentsAsync(session, cancellationToken))
            {
                var stable = await agents.GetRevisionAsync(session, agentRecord.Name, agentRecord.StableRevision, cancellationToken);
                RevisionSpec? canary = null;
                if (active.TryGetValue(agentRecord.Name, out var rollout)
                    && await agents.GetRevisionAsync(session, agentRecord.Name, rollout.ToRevision, cancellationToken) is { } target)
                {
                    canary = Spec(target);
                }

                desired.Add((Spec(stable!), agentRecord.Weight, canary));
            }
        }

        foreach (var (stable, weight, canary) in desired)
        {
            try
            {
                await infrastructure.EnsureStableAsync(stable, cancellationToken);
                await infrastructure.EnsureWeightAsync(stable.Agent, weight, cancellationToken);
                await (canary is null
                    ? infrastructure.EnsureCanaryIdleAsync(stable.Agent, cancellationToken)
                    : infrastructure.EnsureCanaryAsync(canary, cancellationToken));
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                Log.ConvergeFailed(logger, stable.Agent, ex);
            }
        }
    }

    // ---------------------------------------------------------------- transitions

    private async Task<Outcome<RolloutRecord>> OperateAsync(
        string agent, string? reason, Precondition precondition, Func<UnitOfWork, RolloutRecord, Task<Outcome<RolloutRecord>>> operation,
        CancellationToken cancellationToken)
    {
        if (CheckReason(reason) is { } reasonError)
        {
            return reasonError;
        }

        await using var work = await database.BeginAsync(cancellationToken);
        if (await agents.GetAgentAsync(work, agent, cancellationToken) is null)
        {
            return OperationError.AgentNotFound(agent);
        }

        var rollout = await rollouts.GetLatestAsync(work, agent, cancellationToken);
        if (rollout is null)
        {
            return new OperationError(ErrorKind.NotFound, "No rollout", $"Agent '{agent}' has no rollout yet.");
        }

        if (!precondition.IsSatisfiedBy(rollout.Version))
        {
            return OperationError.Stale("rollout", rollout.Version);
        }

        var outcome = await operation(work, rollout);
        if (outcome.Error is null)
        {
            await work.CommitAsync(cancellationToken);
        }

        return outcome;
    }

    /// <summary>Enters step <paramref name="index"/> (or, at the step count, marks every step done so promotion follows).</summary>
    private Task<RolloutRecord> EnterAsync(
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

    private Task<RolloutRecord> AbortInAsync(UnitOfWork work, RolloutRecord rollout, string actor, string reason, CancellationToken cancellationToken)
    {
        Log.Aborted(logger, rollout.Agent, rollout.Id, reason);
        return TransitionAsync(work, rollout, rollout with { State = RolloutState.Aborted, Hold = null, CompletedAt = work.Now },
            TransitionActions.Aborted, actor, reason, weight: 0, stableRevision: null, cancellationToken);
    }

    /// <summary>Writes <paramref name="next"/> (version + 1), the weight and stable revision if given, the route and one audit entry.</summary>
    private async Task<RolloutRecord> TransitionAsync(
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

    // ---------------------------------------------------------------- helpers

    private async Task<Outcome<RevisionRecord>> CheckUndoAsync(
        ISqlSession session, string agent, int? revision, Precondition precondition, CancellationToken cancellationToken)
    {
        var agentRecord = await agents.GetAgentAsync(session, agent, cancellationToken);
        if (agentRecord is null)
        {
            return OperationError.AgentNotFound(agent);
        }

        var route = await agents.ReadRouteAsync(session, agent, cancellationToken);
        if (!precondition.IsSatisfiedBy(route!.Revision))
        {
            return OperationError.Stale("route", route.Revision);
        }

        if (await agents.ActiveRolloutIdAsync(session, agent, cancellationToken) is { } active)
        {
            return OperationError.Conflict($"Rollout {active} is active; abort it first, then undo.");
        }

        var number = revision ?? await rollouts.PreviousStableRevisionAsync(session, agent, agentRecord.StableRevision, cancellationToken);
        if (number is null)
        {
            return OperationError.Conflict($"Revision {agentRecord.StableRevision} has been stable since the agent was registered; there is no previous revision.");
        }

        if (number == agentRecord.StableRevision)
        {
            return OperationError.Conflict($"Revision {number} is already the stable revision.");
        }

        var target = await agents.GetRevisionAsync(session, agent, number.Value, cancellationToken);
        return target is null
            ? OperationError.Invalid("revision", $"Revision {number} does not exist for agent '{agent}' (or was pruned from history).")
            : target;
    }

    private static OperationError NotActive(RolloutRecord rollout, string verb) =>
        OperationError.Conflict($"Rollout {rollout.Id} is {rollout.State}; only an active rollout can be {verb}.");

    private static OperationError? CheckReason(string? reason) =>
        reason is { Length: > MaxReasonLength }
            ? OperationError.Invalid("reason", $"A reason is at most {MaxReasonLength} characters.")
            : null;

    private static string Entering(RolloutRecord rollout, int index) =>
        index >= rollout.Steps.Count ? "all steps done, promoting" : $"entering step {index} ({rollout.Steps[index].Describe()})";

    private async Task<RevisionSpec> SpecAsync(string agent, int number, CancellationToken cancellationToken)
    {
        await using var session = await database.ReadAsync(cancellationToken);
        var revision = await agents.GetRevisionAsync(session, agent, number, cancellationToken)
            ?? throw new InvalidOperationException($"Revision {number} of '{agent}' is referenced by a rollout but missing.");
        return Spec(revision);
    }

    private static RevisionSpec Spec(RevisionRecord revision) => new(revision.Agent, revision.Number, revision.Version, revision.ImageTag);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Rollout {RolloutId} of {Agent} to revision {Revision} started")]
        public static partial void Started(ILogger logger, string agent, long rolloutId, int revision);

        [LoggerMessage(2, LogLevel.Information, "Rollout {RolloutId} of {Agent} promoted revision {Revision} to stable")]
        public static partial void Promoted(ILogger logger, string agent, long rolloutId, int revision);

        [LoggerMessage(3, LogLevel.Warning, "Rollout {RolloutId} of {Agent} aborted: {Reason}")]
        public static partial void Aborted(ILogger logger, string agent, long rolloutId, string reason);

        [LoggerMessage(4, LogLevel.Information, "Agent {Agent} rolled back to revision {Revision}")]
        public static partial void RolledBack(ILogger logger, string agent, int revision);

        [LoggerMessage(5, LogLevel.Warning, "Analysis provider {Provider} failed for rollout {RolloutId} of {Agent}; asking again later")]
        public static partial void AnalysisFailed(ILogger logger, string provider, string agent, long rolloutId, Exception exception);

        [LoggerMessage(6, LogLevel.Error, "Reconciling rollout {RolloutId} of {Agent} failed; retrying on the next pass")]
        public static partial void DriveFailed(ILogger logger, string agent, long rolloutId, Exception exception);

        [LoggerMessage(7, LogLevel.Error, "Bringing the tracks of {Agent} in line with the database failed; retrying on the next pass")]
        public static partial void ConvergeFailed(ILogger logger, string agent, Exception exception);
    }
}
