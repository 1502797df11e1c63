using RolloutApi.Http;
using RolloutApi.Model;
using RolloutApi.Rollouts.Analysis;
using RolloutApi.Rollouts.Transitions;
using RolloutApi.Routing;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts.Commands;

/// <summary>
/// What operators do to a rollout: start, pause, resume, promote, promote-full, abort, retry. Each is one SQLite
/// transaction whose checks (If-Match, "one rollout per agent", the state it starts from) read state inside that same
/// transaction, so a stale <c>If-Match</c> is refused and nothing is applied twice; the writes are
/// <see cref="RolloutTransitions"/>'. None calls the track driver: the reconciler follows the committed state.
/// </summary>
public sealed partial class RolloutCommands(
    SqliteDatabase database,
    AgentStore agents,
    RolloutStore rollouts,
    RoutingTableWriter routing,
    RolloutTransitions transitions,
    AnalysisProviders analysis,
    AnalysisTemplates templates,
    ILogger<RolloutCommands> logger)
{
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

        if (AuditReasons.Check(reason) is { } reasonError)
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
        record = await transitions.StartAsync(work, record, before, backgroundTemplate, cancellationToken);
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

            return await transitions.TransitionAsync(work, rollout, rollout with { State = RolloutState.Paused, Hold = RolloutHold.Operator },
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
            return await transitions.TransitionAsync(work, rollout, rollout with { State = state, Hold = null },
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
            return await transitions.EnterAsync(work, rollout, rollout.StepIndex + 1, TransitionActions.StepPromoted, actor,
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

            return await transitions.EnterAsync(work, rollout, rollout.Steps.Count, TransitionActions.PromotedFull, actor,
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

            return await transitions.AbortAsync(work, rollout, actor, reason ?? $"Aborted by {actor}.", cancellationToken);
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
            return await transitions.TransitionAsync(work, rollout, next, TransitionActions.Retried, actor,
                reason ?? $"{actor} retried the rollout to revision {rollout.ToRevision}.", weight: 0, stableRevision: null, cancellationToken);
        }, cancellationToken);

    /// <summary>Runs <paramref name="operation"/> on the agent's newest rollout in one transaction, committed when it succeeds.</summary>
    private async Task<Outcome<RolloutRecord>> OperateAsync(
        string agent, string? reason, Precondition precondition, Func<UnitOfWork, RolloutRecord, Task<Outcome<RolloutRecord>>> operation,
        CancellationToken cancellationToken)
    {
        if (AuditReasons.Check(reason) is { } reasonError)
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

    private static OperationError NotActive(RolloutRecord rollout, string verb) =>
        OperationError.Conflict($"Rollout {rollout.Id} is {rollout.State}; only an active rollout can be {verb}.");

    private static partial class Log
    {
        [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Rollout {RolloutId} of {Agent} to revision {Revision} started")]
        public static partial void Started(ILogger logger, string agent, long rolloutId, int revision);
    }
}
