using AgentAspire.Contracts;
using RolloutApi.Storage;

namespace RolloutApi.Routing;

/// <summary>
/// The one way routing changes leave a transaction: compares an agent's route with what it was before the change, and if
/// it differs takes a new global revision and publishes the whole table once the transaction commits.
/// </summary>
public sealed class RoutingTableWriter(AgentStore agents, RoutingTableBroadcaster broadcaster)
{
    /// <summary>Reads the agent's route inside <paramref name="work"/> (call before changing it).</summary>
    public Task<AgentRoute?> ReadAsync(UnitOfWork work, string agent, CancellationToken cancellationToken) =>
        agents.ReadRouteAsync(work, agent, cancellationToken);

    /// <summary>
    /// Call after the change, inside the same transaction. Returns the agent's route as it will be published (with its new
    /// revision when it changed).
    /// </summary>
    public async Task<AgentRoute> ApplyAsync(UnitOfWork work, string agent, AgentRoute? before, CancellationToken cancellationToken)
    {
        var after = await agents.ReadRouteAsync(work, agent, cancellationToken)
            ?? throw new InvalidOperationException($"Agent '{agent}' has no route inside its own transaction.");
        if (before is not null && SameRoute(before, after))
        {
            return after;
        }

        var revision = await agents.BumpRouteRevisionAsync(work, agent, cancellationToken);
        var table = await agents.ReadRoutingTableAsync(work, cancellationToken);
        work.OnCommitted(() => broadcaster.Publish(table));
        return after with { Revision = revision };
    }

    private static bool SameRoute(AgentRoute a, AgentRoute b) => a with { Revision = 0 } == b with { Revision = 0 };
}
