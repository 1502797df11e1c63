using AgentAspire.Contracts;
using RolloutApi.Model;
using RolloutApi.Storage;

namespace RolloutApi.Flags;

/// <summary>An agent's flag row: the version every flag change bumps and the agent-level definitions.</summary>
public sealed record FlagAgentRecord(string Agent, long Version, FlagDocument Definitions, DateTimeOffset? UpdatedAt, string? UpdatedBy);

/// <summary>The flag set a revision ships (written once).</summary>
public sealed record RevisionFlagSet(string Agent, int Revision, FlagDocument Document, DateTimeOffset CreatedAt, string CreatedBy);

/// <summary>A track's stored snapshot.</summary>
public sealed record FlagSnapshotRecord(
    string Agent, string Track, long Version, int? Revision, string? VersionLabel, FlagDocument Document, long AuditId, DateTimeOffset UpdatedAt)
{
    public FlagSnapshot ToSnapshot() => new(Agent, Track, Version, Revision, VersionLabel, Document.Element);
}

/// <summary>What each track runs: the revision whose flag set it serves and the version label it reports.</summary>
/// <param name="Revision">The stable revision for the stable track; the rollout's target for the canary track while a
/// rollout is active, otherwise the stable revision (an idle canary serves the stable flag set).</param>
/// <param name="VersionLabel">The revision's version; an idle canary keeps the configured idle label, as the routing table says.</param>
public sealed record TrackSource(string Track, int Revision, string VersionLabel);

/// <summary>Raw SQL for the <c>flags</c> component's tables (<see cref="FlagsSchema"/>).</summary>
public sealed class FlagSetStore
{
    public async Task<FlagAgentRecord?> ReadAgentAsync(ISqlSession session, string agent, CancellationToken cancellationToken)
    {
        await using var command = session.Command("SELECT version, definitions, updated_at, updated_by FROM flag_agents WHERE agent = $agent")
            .With("$agent", agent);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new FlagAgentRecord(agent, reader.GetInt64(0), FlagDocument.Load(reader.GetString(1)), reader.GetNullableTime(2), reader.GetNullableString(3))
            : null;
    }

    /// <summary>Creates the agent's flag row (version 0, no definitions) if it has none yet.</summary>
    public async Task EnsureAgentAsync(UnitOfWork work, string agent, CancellationToken cancellationToken)
    {
        await using var command = work.Command("""
            INSERT INTO flag_agents (agent, version, definitions) VALUES ($agent, 0, $definitions) ON CONFLICT (agent) DO NOTHING
            """).With("$agent", agent).With("$definitions", FlagDocument.Empty.Json);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Takes the agent's next flag version.</summary>
    public async Task<long> BumpVersionAsync(UnitOfWork work, string agent, CancellationToken cancellationToken)
    {
        await using var command = work.Command("UPDATE flag_agents SET version = version + 1 WHERE agent = $agent RETURNING version")
            .With("$agent", agent);
        return await command.ScalarInt64Async(cancellationToken);
    }

    public async Task SetDefinitionsAsync(UnitOfWork work, string agent, FlagDocument definitions, string actor, CancellationToken cancellationToken)
    {
        await using var command = work.Command("""
            UPDATE flag_agents SET definitions = $definitions, updated_at = $at, updated_by = $by WHERE agent = $agent
            """).With("$definitions", definitions.Json).With("$at", work.Now).With("$by", actor).With("$agent", agent);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<RevisionFlagSet?> GetRevisionSetAsync(ISqlSession session, string agent, int revision, CancellationToken cancellationToken)
    {
        await using var command = session.Command("""
            SELECT document, created_at, created_by FROM flag_revision_sets WHERE agent = $agent AND revision = $revision
            """).With("$agent", agent).With("$revision", revision);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new RevisionFlagSet(agent, revision, FlagDocument.Load(reader.GetString(0)), reader.GetTime(1), reader.GetString(2))
            : null;
    }

    public async Task InsertRevisionSetAsync(UnitOfWork work, RevisionFlagSet set, CancellationToken cancellationToken)
    {
        await using var command = work.Command("""
            INSERT INTO flag_revision_sets (agent, revision, document, created_at, created_by) VALUES ($agent, $revision, $document, $at, $by)
            """)
            .With("$agent", set.Agent)
            .With("$revision", set.Revision)
            .With("$document", set.Document.Json)
            .With("$at", set.CreatedAt)
            .With("$by", set.CreatedBy);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Whether any flag set of the agent (a revision's or the agent-level one) or any kill switch names <paramref name="flag"/>.</summary>
    public async Task<bool> IsKnownFlagAsync(ISqlSession session, string agent, string flag, CancellationToken cancellationToken)
    {
        await using (var kills = session.Command("SELECT 1 FROM flag_kills WHERE agent = $agent AND flag = $flag LIMIT 1")
            .With("$agent", agent).With("$flag", flag))
        {
            if (await kills.ExecuteScalarAsync(cancellationToken) is not null)
            {
                return true;
            }
        }

        await using var command = session.Command("""
            SELECT definitions FROM flag_agents WHERE agent = $agent
            UNION ALL
            SELECT document FROM flag_revision_sets WHERE agent = $agent
            """).With("$agent", agent);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (FlagDocument.Load(reader.GetString(0)).Defines(flag))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The agent's kill switches, oldest first.</summary>
    public async Task<IReadOnlyList<FlagKill>> ListKillsAsync(ISqlSession session, string agent, CancellationToken cancellationToken)
    {
        await using var command = session.Command("""
            SELECT flag, track, revision, created_at, created_by, reason FROM flag_kills WHERE agent = $agent ORDER BY id
            """).With("$agent", agent);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var kills = new List<FlagKill>();
        while (await reader.ReadAsync(cancellationToken))
        {
            kills.Add(new FlagKill(
                reader.GetString(0), new FlagScope(reader.GetNullableString(1), reader.GetNullableInt32(2)),
                reader.GetTime(3), reader.GetString(4), reader.GetString(5)));
        }

        return kills;
    }

    public async Task InsertKillAsync(UnitOfWork work, string agent, FlagKill kill, CancellationToken cancellationToken)
    {
        await using var command = work.Command("""
            INSERT INTO flag_kills (agent, flag, track, revision, created_at, created_by, reason)
            VALUES ($agent, $flag, $track, $revision, $at, $by, $reason)
            """)
            .With("$agent", agent)
            .With("$flag", kill.Flag)
            .With("$track", kill.Scope.Track)
            .With("$revision", kill.Scope.Revision)
            .With("$at", kill.At)
            .With("$by", kill.By)
            .With("$reason", kill.Reason);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Removes the kill switch of <paramref name="flag"/> with exactly this scope; returns whether there was one.</summary>
    public async Task<bool> DeleteKillAsync(UnitOfWork work, string agent, string flag, FlagScope scope, CancellationToken cancellationToken)
    {
        await using var command = work.Command("""
            DELETE FROM flag_kills
            WHERE agent = $agent AND flag = $flag AND track IS $track AND revision IS $revision
            """).With("$agent", agent).With("$flag", flag).With("$track", scope.Track).With("$revision", scope.Revision);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<FlagSnapshotRecord?> ReadSnapshotAsync(ISqlSession session, string agent, string track, CancellationToken cancellationToken)
    {
        await using var command = session.Command("""
            SELECT version, revision, version_label, document, audit_id, updated_at FROM flag_snapshots WHERE agent = $agent AND track = $track
            """).With("$agent", agent).With("$track", track);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new FlagSnapshotRecord(agent, track, reader.GetInt64(0), reader.GetNullableInt32(1), reader.GetNullableString(2),
                FlagDocument.Load(reader.GetString(3)), reader.GetInt64(4), reader.GetTime(5))
            : null;
    }

    public async Task UpsertSnapshotAsync(UnitOfWork work, FlagSnapshotRecord snapshot, CancellationToken cancellationToken)
    {
        await using var command = work.Command("""
            INSERT INTO flag_snapshots (agent, track, version, revision, version_label, document, audit_id, updated_at)
            VALUES ($agent, $track, $version, $revision, $label, $document, $audit, $at)
            ON CONFLICT (agent, track) DO UPDATE SET
                version = excluded.version, revision = excluded.revision, version_label = excluded.version_label,
                document = excluded.document, audit_id = excluded.audit_id, updated_at = excluded.updated_at
            """)
            .With("$agent", snapshot.Agent)
            .With("$track", snapshot.Track)
            .With("$version", snapshot.Version)
            .With("$revision", snapshot.Revision)
            .With("$label", snapshot.VersionLabel)
            .With("$document", snapshot.Document.Json)
            .With("$audit", snapshot.AuditId)
            .With("$at", snapshot.UpdatedAt);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// What the two tracks run. <paramref name="assignment"/> (a transition's, inside its transaction) names the revisions;
    /// without one they are read the way <see cref="TransitionRecorder"/> reads them. Null when the agent does not exist.
    /// </summary>
    public async Task<IReadOnlyList<TrackSource>?> ReadSourcesAsync(
        ISqlSession session, string agent, TrackAssignment? assignment, CancellationToken cancellationToken)
    {
        await using var command = session.Command($"""
            SELECT a.stable_revision, r.to_revision, a.idle_canary_version
            FROM agents a
            LEFT JOIN rollouts r ON r.agent = a.name AND r.state IN ({RolloutStates.ActiveSqlList})
            WHERE a.name = $agent
            """).With("$agent", agent);
        int stable;
        int? canary;
        string idleLabel;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            stable = assignment?.StableRevision ?? reader.GetInt32(0);
            canary = assignment is null ? reader.GetNullableInt32(1) : assignment.CanaryRevision;
            idleLabel = reader.GetString(2);
        }

        var stableLabel = await LabelAsync(session, agent, stable, cancellationToken) ?? idleLabel;
        var canaryLabel = canary is { } number ? await LabelAsync(session, agent, number, cancellationToken) ?? idleLabel : idleLabel;
        return [new TrackSource(Tracks.Stable, stable, stableLabel), new TrackSource(Tracks.Canary, canary ?? stable, canaryLabel)];
    }

    private static async Task<string?> LabelAsync(ISqlSession session, string agent, int revision, CancellationToken cancellationToken)
    {
        await using var command = session.Command("SELECT version FROM revisions WHERE agent = $agent AND number = $number")
            .With("$agent", agent).With("$number", revision);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }
}
