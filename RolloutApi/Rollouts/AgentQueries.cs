using AgentAspire.Contracts;
using RolloutApi.Model;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts;

/// <summary>A revision as the API shows it.</summary>
public sealed record RevisionView(int Number, string Version, string ImageTag, DateTimeOffset CreatedAt, string CreatedBy)
{
    /// <summary>The local stored build the revision runs (see README: canary your working copy); null for a label + flag set.</summary>
    public string? Build { get; init; }

    public static RevisionView From(RevisionRecord revision) =>
        new(revision.Number, revision.Version, revision.ImageTag, revision.CreatedAt, revision.CreatedBy) { Build = revision.Build };
}

/// <summary>An agent at a glance: image, stable revision, route and the active rollout's id (if one runs).</summary>
public sealed record AgentView(string Name, string? Image, RevisionView StableRevision, AgentRoute Route, long? ActiveRolloutId);

/// <summary>Read-side queries over agents, each in one consistent snapshot.</summary>
public sealed class AgentQueries(SqliteDatabase database, AgentStore agents)
{
    public async Task<IReadOnlyList<AgentView>> ListAsync(CancellationToken cancellationToken)
    {
        await using var session = await database.ReadAsync(cancellationToken);
        var views = new List<AgentView>();
        foreach (var agent in await agents.ListAgentsAsync(session, cancellationToken))
        {
            views.Add(await ViewAsync(session, agent, cancellationToken));
        }

        return views;
    }

    public async Task<AgentView?> GetAsync(string agent, CancellationToken cancellationToken)
    {
        await using var session = await database.ReadAsync(cancellationToken);
        var record = await agents.GetAgentAsync(session, agent, cancellationToken);
        return record is null ? null : await ViewAsync(session, record, cancellationToken);
    }

    private async Task<AgentView> ViewAsync(ISqlSession session, AgentRecord agent, CancellationToken cancellationToken)
    {
        var stable = await agents.GetRevisionAsync(session, agent.Name, agent.StableRevision, cancellationToken)
            ?? throw new InvalidOperationException($"Agent '{agent.Name}' names stable revision {agent.StableRevision}, which does not exist.");
        var route = await agents.ReadRouteAsync(session, agent.Name, cancellationToken)
            ?? throw new InvalidOperationException($"Agent '{agent.Name}' has no route.");
        var active = await agents.ActiveRolloutIdAsync(session, agent.Name, cancellationToken);
        return new AgentView(agent.Name, agent.Image, RevisionView.From(stable), route, active);
    }
}
