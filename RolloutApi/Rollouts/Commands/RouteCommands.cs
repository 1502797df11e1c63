using AgentAspire.Contracts;
using RolloutApi.Http;
using RolloutApi.Model;
using RolloutApi.Routing;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts.Commands;

/// <summary>Reads routes and sets an agent's weight by hand (an operator's override when no rollout drives it).</summary>
public sealed class RouteCommands(
    SqliteDatabase database, AgentStore agents, RolloutStore rollouts, RoutingTableWriter writer, TransitionRecorder recorder,
    ReconcilerSignal signal)
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

    /// <summary>
    /// Opens (or closes again) the canary of an aborted rollout to forced traffic (<c>X-Agent-Track: canary</c>), e.g. to
    /// debug the broken revision with a smoke test. Only the agent's newest rollout counts, and only while it is aborted:
    /// a retry or a new rollout opens the canary by itself.
    /// </summary>
    public async Task<Outcome<AgentRoute>> SetForcedCanaryAsync(
        string agent, bool allowed, Precondition precondition, string actor, CancellationToken cancellationToken)
    {
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

        var latest = await rollouts.GetLatestAsync(work, agent, cancellationToken);
        if (latest is not { State: RolloutState.Aborted })
        {
            return OperationError.Conflict(
                "Forced canary traffic is only closed after an abort, and the agent's newest rollout is not aborted; nothing to change.");
        }

        if (before.ForcedCanary == allowed)
        {
            return before;
        }

        await using (var command = allowed
            ? work.Command("""
                INSERT INTO forced_canary_allowances (agent, rollout_id, allowed_at, allowed_by) VALUES ($agent, $rollout, $at, $by)
                """).With("$agent", agent).With("$rollout", latest.Id).With("$at", work.Now).With("$by", actor)
            : work.Command("DELETE FROM forced_canary_allowances WHERE agent = $agent AND rollout_id = $rollout")
                .With("$agent", agent).With("$rollout", latest.Id))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var after = await writer.ApplyAsync(work, agent, before, cancellationToken);
        await recorder.RecordAsync(work, new Transition(
            agent, allowed ? TransitionActions.ForcedCanaryAllowed : TransitionActions.ForcedCanaryClosed, actor,
            allowed
                ? $"{actor} let forced traffic reach the canary of aborted rollout {latest.Id}."
                : $"{actor} closed the canary of aborted rollout {latest.Id} to forced traffic again.",
            latest.Id, new TransitionPoint(latest.State.ToString(), null, before.Weight), new TransitionPoint(latest.State.ToString(), null, after.Weight)),
            cancellationToken);
        await work.CommitAsync(cancellationToken);
        return after;
    }
}
