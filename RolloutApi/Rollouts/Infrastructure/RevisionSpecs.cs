using RolloutApi.Drivers;
using RolloutApi.Model;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts.Infrastructure;

/// <summary>What a track driver needs to know of a revision, read from its row.</summary>
public static class RevisionSpecs
{
    public static RevisionSpec ToSpec(this RevisionRecord revision) =>
        new(revision.Agent, revision.Number, revision.Version, revision.ImageTag, revision.Build);

    /// <summary>The spec of revision <paramref name="number"/>, which a rollout references and so must exist.</summary>
    public static async Task<RevisionSpec> ReadAsync(SqliteDatabase database, AgentStore agents, string agent, int number, CancellationToken cancellationToken)
    {
        await using var session = await database.ReadAsync(cancellationToken);
        var revision = await agents.GetRevisionAsync(session, agent, number, cancellationToken)
            ?? throw new InvalidOperationException($"Revision {number} of '{agent}' is referenced by a rollout but missing.");
        return revision.ToSpec();
    }
}
