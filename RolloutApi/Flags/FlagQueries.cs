using AgentAspire.Contracts;
using RolloutApi.Http;
using RolloutApi.Storage;

namespace RolloutApi.Flags;

/// <summary>Reads of flag state: snapshots (from the broadcaster when published, else from the database), flag sets and kill switches.</summary>
public sealed class FlagQueries(SqliteDatabase database, AgentStore agents, FlagSetStore store, FlagSnapshotWriter writer, FlagSnapshotBroadcaster broadcaster)
{
    /// <summary>The snapshot <paramref name="track"/> serves; null for an unknown agent.</summary>
    public async Task<FlagSnapshot?> GetSnapshotAsync(string agent, string track, CancellationToken cancellationToken)
    {
        if (broadcaster.Current(agent, track) is { } current)
        {
            return current;
        }

        FlagSnapshot? loaded;
        await using (var session = await database.ReadAsync(cancellationToken))
        {
            loaded = await LoadAsync(session, agent, track, cancellationToken);
        }

        if (loaded is null)
        {
            return null;
        }

        // Seeds the broadcaster; if a newer snapshot was published meanwhile, that one is current and is returned.
        broadcaster.Publish(loaded);
        return broadcaster.Current(agent, track) ?? loaded;
    }

    public async Task<Outcome<RevisionFlagSet>> GetRevisionFlagsAsync(string agent, int revision, CancellationToken cancellationToken)
    {
        await using var session = await database.ReadAsync(cancellationToken);
        if (await agents.GetAgentAsync(session, agent, cancellationToken) is null)
        {
            return OperationError.AgentNotFound(agent);
        }

        if (await agents.GetRevisionAsync(session, agent, revision, cancellationToken) is null)
        {
            return FlagErrors.RevisionNotFound(agent, revision);
        }

        return await store.GetRevisionSetAsync(session, agent, revision, cancellationToken) is { } set
            ? set
            : new OperationError(ErrorKind.NotFound, "No flag set", $"Revision {revision} of '{agent}' has no flag set (it serves none; set one with PUT).");
    }

    public async Task<FlagDefinitionsView?> GetDefinitionsAsync(string agent, CancellationToken cancellationToken)
    {
        await using var session = await database.ReadAsync(cancellationToken);
        if (await agents.GetAgentAsync(session, agent, cancellationToken) is null)
        {
            return null;
        }

        var flags = await store.ReadAgentAsync(session, agent, cancellationToken);
        return new FlagDefinitionsView(agent, flags?.Version ?? 0, (flags?.Definitions ?? FlagDocument.Empty).Element, flags?.UpdatedAt, flags?.UpdatedBy);
    }

    public async Task<FlagKillsView?> GetKillsAsync(string agent, CancellationToken cancellationToken)
    {
        await using var session = await database.ReadAsync(cancellationToken);
        if (await agents.GetAgentAsync(session, agent, cancellationToken) is null)
        {
            return null;
        }

        var version = (await store.ReadAgentAsync(session, agent, cancellationToken))?.Version ?? 0;
        var kills = await store.ListKillsAsync(session, agent, cancellationToken);
        return new FlagKillsView(agent, version, [.. kills.Select(FlagKillView.From)]);
    }

    /// <summary>
    /// The stored snapshot; for an agent whose snapshots were never computed (its database predates flags, nothing changed
    /// since) the flag set computed now, at version 0, so that the next change (version 1 or later) supersedes it.
    /// </summary>
    private async Task<FlagSnapshot?> LoadAsync(ISqlSession session, string agent, string track, CancellationToken cancellationToken)
    {
        if (await store.ReadSnapshotAsync(session, agent, track, cancellationToken) is { } stored)
        {
            return stored.ToSnapshot();
        }

        var computed = await writer.ComputeAsync(session, agent, assignment: null, cancellationToken);
        return computed?.Single(c => c.Source.Track == track) is { } flags
            ? new FlagSnapshot(agent, track, 0, flags.Source.Revision, flags.Source.VersionLabel, flags.Document.Element)
            : null;
    }
}

/// <summary>The refusals particular to flags.</summary>
public static class FlagErrors
{
    public static OperationError FlagNotFound(string agent, string flag) =>
        new(ErrorKind.NotFound, "Flag not found", $"No flag set of agent '{agent}' (revisions or agent-level definitions) defines '{flag}'.");

    public static OperationError RevisionNotFound(string agent, int revision) =>
        new(ErrorKind.NotFound, "Revision not found", $"Agent '{agent}' has no revision {revision} (never created, or pruned from history).");

    public static OperationError InvalidTrack(string? track) =>
        OperationError.Invalid(FlagApiPaths.TrackParameter, $"'{FlagApiPaths.TrackParameter}' must be '{Tracks.Stable}' or '{Tracks.Canary}'; got '{track}'.");
}
