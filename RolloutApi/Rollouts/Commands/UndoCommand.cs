using RolloutApi.Http;
using RolloutApi.Model;
using RolloutApi.Rollouts.Infrastructure;
using RolloutApi.Rollouts.Transitions;
using RolloutApi.Routing;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts.Commands;

/// <summary>
/// Re-applies an earlier revision on the stable track (the previous stable revision by default). Unlike the other commands
/// it calls the track driver first (the stable track must serve the target before traffic returns to it), then checks
/// again and commits a <see cref="RolloutState.RolledBack"/> rollout with weight 0; it holds the <see cref="DriveGate"/>
/// throughout, so a reconciler pass cannot re-apply the old stable revision in between.
/// </summary>
public sealed partial class UndoCommand(
    SqliteDatabase database,
    AgentStore agents,
    RolloutStore rollouts,
    RoutingTableWriter routing,
    RolloutTransitions transitions,
    TrackInfrastructure infrastructure,
    StableDrain drain,
    DriveGate gate,
    ReconcilerSignal signal,
    ILogger<UndoCommand> logger)
{
    public async Task<Outcome<RolloutRecord>> UndoAsync(
        string agent, int? revision, string? reason, Precondition precondition, string actor, CancellationToken cancellationToken)
    {
        if (AuditReasons.Check(reason) is { } reasonError)
        {
            return reasonError;
        }

        using var driving = await gate.EnterAsync(cancellationToken);
        RevisionRecord target;
        await using (var session = await database.ReadAsync(cancellationToken))
        {
            var checkedTarget = await CheckAsync(session, agent, revision, precondition, cancellationToken);
            if (checkedTarget.Error is { } error)
            {
                return error;
            }

            target = checkedTarget.Value!;
        }

        // When the stable process must restart to run the target (another build), the canary runs it first and takes all
        // traffic meanwhile, so that no request meets a stopped process.
        var commitPrecondition = precondition;
        if ((await drain.NeedsDrainAsync(agent, target.ToSpec(), cancellationToken)).Restarts)
        {
            var drained = await drain.DrainForUndoAsync(agent, target, actor,
                async work => (await CheckAsync(work, agent, target.Number, precondition, cancellationToken)).Error, cancellationToken);
            if (drained.Error is { } refused)
            {
                return refused;
            }

            // The drain moved the route on the caller's behalf: from here a change by someone else is one past the drain's.
            if (!Precondition.TryParse(Precondition.ETagFor(drained.RouteRevision), out commitPrecondition))
            {
                throw new InvalidOperationException($"The route's own ETag {drained.RouteRevision} did not parse.");
            }
        }

        // Outside the transaction: the stable track must serve the target before traffic returns to it.
        await infrastructure.EnsureStableAsync(target.ToSpec(), cancellationToken);

        await using var work = await database.BeginAsync(cancellationToken);
        var recheck = await CheckAsync(work, agent, revision, commitPrecondition, cancellationToken);
        if (recheck.Error is { } raced)
        {
            // The stable track may now run the target: the next pass puts it back in line with the database.
            signal.Signal();
            return raced;
        }

        var agentRecord = (await agents.GetAgentAsync(work, agent, cancellationToken))!;
        var before = (await routing.ReadAsync(work, agent, cancellationToken))!;
        var message = reason ?? $"{actor} re-applied revision {target.Number} ({target.Version}) in place of revision {agentRecord.StableRevision}.";
        var record = new RolloutRecord(
            0, agent, agentRecord.StableRevision, target.Number, [], RolloutState.RolledBack, 0, work.Now, null, 1, message,
            work.Now, actor, work.Now, work.Now);
        record = await transitions.RolledBackAsync(work, record, before, cancellationToken);
        await work.CommitAsync(cancellationToken);
        Log.RolledBack(logger, agent, target.Number);
        return record;
    }

    private async Task<Outcome<RevisionRecord>> CheckAsync(
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

    private static partial class Log
    {
        [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "Agent {Agent} rolled back to revision {Revision}")]
        public static partial void RolledBack(ILogger logger, string agent, int revision);
    }
}
