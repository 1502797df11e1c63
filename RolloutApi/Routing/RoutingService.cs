using RolloutApi.Rollouts;
using RolloutApi.Storage;
using ServiceDefaults.Contracts;

namespace RolloutApi.Routing;

/// <summary>Reads routes and sets an agent's weight by hand (an operator's override when no rollout drives it).</summary>
public sealed class RoutingService(
    SqliteDatabase database, AgentStore agents, RoutingTableWriter writer, TransitionRecorder recorder, ReconcilerSignal signal)
{
    public async Task<AgentRoute?> GetRouteAsync(string agent, CancellationToken cancellationToken)
    {
        await using var session = await database.ReadAsync(cancellationToken);
        return await agents.ReadRouteAsync(session, agent, cancellationToken);
    }

    /// <summary>
    /// Sets the canary weight. Refused (nothing changes) when the weight is out of range, the agent is unknown, the
    /// <paramref name="precondition"/> names an older route revision, or a rollout is driving the weight.
    /// </summary>
    public async Task<Outcome<AgentRoute>> SetWeightAsync(
        string agent, int weight, Precondition precondition, string actor, CancellationToken cancellationToken)
    {
        if (!Weights.IsValid(weight))
        {
            return OperationError.Invalid("weight", $"weight must be between {Weights.Min} and {Weights.Max} basis points (10000 = 100%).");
        }

        await using var work = await database.BeginAsync(cancellationToken);
        var before = await writer.ReadAsync(work, agent, cancellationToken);
        if (before is null)
        {
            return OperationError.AgentNotFound(agent);
        }

        if (!precondition.IsSatisfiedBy(before.Revision))
        {
            return OperationError.Stale("route", before.Revision);
        }

        if (await agents.ActiveRolloutIdAsync(work, agent, cancellationToken) is { } rolloutId)
        {
            return OperationError.Conflict(
                $"Rollout {rolloutId} drives this agent's weight; pause, promote or abort it instead of setting the weight by hand.");
        }

        if (before.Weight == weight)
        {
            return before;
        }

        await agents.SetWeightAsync(work, agent, weight, cancellationToken);
        var after = await writer.ApplyAsync(work, agent, before, cancellationToken);
        await recorder.RecordAsync(work, new Transition(
            agent, TransitionActions.WeightSet, actor, $"Weight set by hand to {weight} basis points.", null,
            new TransitionPoint(null, null, before.Weight), new TransitionPoint(null, null, weight)), cancellationToken);
        // The reconciler tells the track driver about the new weight.
        work.OnCommitted(signal.Signal);
        await work.CommitAsync(cancellationToken);
        return after;
    }
}
