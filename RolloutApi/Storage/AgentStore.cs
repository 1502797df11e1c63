using AgentAspire.Contracts;
using RolloutApi.Model;

namespace RolloutApi.Storage;

/// <summary>Raw SQL for agents, their routes and their revisions.</summary>
public sealed class AgentStore
{
    private const string AgentColumns = """
        name, stable_destination, canary_destination, idle_canary_version, image,
        stable_revision, last_revision, weight, route_revision, created_at
        """;

    // The canary's label is the running rollout's target version, otherwise the configured idle label.
    private const string RouteSelect = $"""
        SELECT a.name, a.weight, a.stable_destination, sr.version, a.canary_destination,
               COALESCE(cr.version, a.idle_canary_version), a.route_revision,
               NOT EXISTS (
                   SELECT 1 FROM rollouts n
                   WHERE n.id = (SELECT MAX(id) FROM rollouts WHERE agent = a.name) AND n.state = '{nameof(RolloutState.Aborted)}'
                     AND NOT EXISTS (SELECT 1 FROM forced_canary_allowances f WHERE f.agent = a.name AND f.rollout_id = n.id))
        FROM agents a
        JOIN revisions sr ON sr.agent = a.name AND sr.number = a.stable_revision
        LEFT JOIN rollouts r ON r.agent = a.name AND r.state IN ({RolloutStates.ActiveSqlList})
        LEFT JOIN revisions cr ON cr.agent = r.agent AND cr.number = r.to_revision
        """;

    public async Task<RoutingTable> ReadRoutingTableAsync(ISqlSession session, CancellationToken cancellationToken)
    {
        await using var revisionCommand = session.Command("SELECT revision FROM routing_state WHERE id = 1");
        var revision = await revisionCommand.ScalarInt64Async(cancellationToken);
        await using var command = session.Command($"{RouteSelect} ORDER BY a.name");
        var routes = new List<AgentRoute>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            routes.Add(ReadRoute(reader));
        }

        return new RoutingTable(revision, routes);
    }

    public async Task<AgentRoute?> ReadRouteAsync(ISqlSession session, string agent, CancellationToken cancellationToken)
    {
        await using var command = session.Command($"{RouteSelect} WHERE a.name = $agent").With("$agent", agent);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadRoute(reader) : null;
    }

    /// <summary>Takes the next global routing revision and stamps it on <paramref name="agent"/>'s route.</summary>
    public async Task<long> BumpRouteRevisionAsync(UnitOfWork work, string agent, CancellationToken cancellationToken)
    {
        await using var bump = work.Command("UPDATE routing_state SET revision = revision + 1 WHERE id = 1 RETURNING revision");
        var revision = await bump.ScalarInt64Async(cancellationToken);
        await using var stamp = work.Command("UPDATE agents SET route_revision = $revision WHERE name = $agent")
            .With("$revision", revision).With("$agent", agent);
        await stamp.ExecuteNonQueryAsync(cancellationToken);
        return revision;
    }

    public async Task<AgentRecord?> GetAgentAsync(ISqlSession session, string agent, CancellationToken cancellationToken)
    {
        await using var command = session.Command($"SELECT {AgentColumns} FROM agents WHERE name = $agent").With("$agent", agent);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadAgent(reader) : null;
    }

    public async Task<IReadOnlyList<AgentRecord>> ListAgentsAsync(ISqlSession session, CancellationToken cancellationToken)
    {
        await using var command = session.Command($"SELECT {AgentColumns} FROM agents ORDER BY name");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var agents = new List<AgentRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            agents.Add(ReadAgent(reader));
        }

        return agents;
    }

    public async Task InsertAgentAsync(UnitOfWork work, AgentRecord agent, CancellationToken cancellationToken)
    {
        await using var command = work.Command($"""
            INSERT INTO agents ({AgentColumns})
            VALUES ($name, $stableDestination, $canaryDestination, $idleCanaryVersion, $image,
                    $stableRevision, $lastRevision, $weight, $routeRevision, $createdAt)
            """)
            .With("$name", agent.Name)
            .With("$stableDestination", agent.StableDestination)
            .With("$canaryDestination", agent.CanaryDestination)
            .With("$idleCanaryVersion", agent.IdleCanaryVersion)
            .With("$image", agent.Image)
            .With("$stableRevision", agent.StableRevision)
            .With("$lastRevision", agent.LastRevision)
            .With("$weight", agent.Weight)
            .With("$routeRevision", agent.RouteRevision)
            .With("$createdAt", agent.CreatedAt);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task UpdateConfigurationAsync(
        UnitOfWork work, string agent, string stableDestination, string canaryDestination, string idleCanaryVersion, string? image,
        CancellationToken cancellationToken)
    {
        await using var command = work.Command("""
            UPDATE agents SET stable_destination = $stable, canary_destination = $canary,
                              idle_canary_version = $idle, image = $image
            WHERE name = $agent
            """)
            .With("$stable", stableDestination)
            .With("$canary", canaryDestination)
            .With("$idle", idleCanaryVersion)
            .With("$image", image)
            .With("$agent", agent);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task SetWeightAsync(UnitOfWork work, string agent, int weight, CancellationToken cancellationToken)
    {
        await using var command = work.Command("UPDATE agents SET weight = $weight WHERE name = $agent")
            .With("$weight", weight).With("$agent", agent);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task SetStableRevisionAsync(UnitOfWork work, string agent, int revision, CancellationToken cancellationToken)
    {
        await using var command = work.Command("UPDATE agents SET stable_revision = $revision WHERE name = $agent")
            .With("$revision", revision).With("$agent", agent);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The id of the agent's active rollout, if one runs.</summary>
    public async Task<long?> ActiveRolloutIdAsync(ISqlSession session, string agent, CancellationToken cancellationToken)
    {
        await using var command = session.Command($"SELECT id FROM rollouts WHERE agent = $agent AND state IN ({RolloutStates.ActiveSqlList})")
            .With("$agent", agent);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null ? null : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Reserves the agent's next revision number (never reused, even after pruning).</summary>
    public async Task<int> NextRevisionNumberAsync(UnitOfWork work, string agent, CancellationToken cancellationToken)
    {
        await using var command = work.Command("UPDATE agents SET last_revision = last_revision + 1 WHERE name = $agent RETURNING last_revision")
            .With("$agent", agent);
        return (int)await command.ScalarInt64Async(cancellationToken);
    }

    public async Task InsertRevisionAsync(UnitOfWork work, RevisionRecord revision, CancellationToken cancellationToken)
    {
        await using var command = work.Command("""
            INSERT INTO revisions (agent, number, version, image_tag, build, created_at, created_by)
            VALUES ($agent, $number, $version, $tag, $build, $at, $by)
            """)
            .With("$build", revision.Build)
            .With("$agent", revision.Agent)
            .With("$number", revision.Number)
            .With("$version", revision.Version)
            .With("$tag", revision.ImageTag)
            .With("$at", revision.CreatedAt)
            .With("$by", revision.CreatedBy);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<RevisionRecord?> GetRevisionAsync(ISqlSession session, string agent, int number, CancellationToken cancellationToken)
    {
        await using var command = session.Command("""
            SELECT agent, number, version, image_tag, created_at, created_by, build FROM revisions WHERE agent = $agent AND number = $number
            """).With("$agent", agent).With("$number", number);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadRevision(reader) : null;
    }

    /// <summary>The agent's revisions, newest first.</summary>
    public async Task<IReadOnlyList<RevisionRecord>> ListRevisionsAsync(ISqlSession session, string agent, CancellationToken cancellationToken)
    {
        await using var command = session.Command("""
            SELECT agent, number, version, image_tag, created_at, created_by, build FROM revisions WHERE agent = $agent ORDER BY number DESC
            """).With("$agent", agent);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var revisions = new List<RevisionRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            revisions.Add(ReadRevision(reader));
        }

        return revisions;
    }

    /// <summary>
    /// Deletes the oldest revisions beyond <paramref name="limit"/>, never the stable one nor one an active or aborted
    /// (retryable) rollout names. Returns how many went.
    /// </summary>
    public async Task<int> PruneRevisionsAsync(UnitOfWork work, string agent, int limit, CancellationToken cancellationToken)
    {
        await using var command = work.Command($"""
            DELETE FROM revisions
            WHERE agent = $agent
              AND number NOT IN (SELECT stable_revision FROM agents WHERE name = $agent)
              AND number NOT IN (SELECT from_revision FROM rollouts WHERE agent = $agent AND state IN ({RolloutStates.ActiveSqlList}, 'Aborted'))
              AND number NOT IN (SELECT to_revision FROM rollouts WHERE agent = $agent AND state IN ({RolloutStates.ActiveSqlList}, 'Aborted'))
              AND number IN (
                  SELECT number FROM revisions WHERE agent = $agent
                  ORDER BY number DESC LIMIT -1 OFFSET $limit)
            """).With("$agent", agent).With("$limit", limit);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static AgentRoute ReadRoute(Microsoft.Data.Sqlite.SqliteDataReader reader) => new(
        Agent: reader.GetString(0),
        Weight: reader.GetInt32(1),
        Stable: new TrackRoute(reader.GetString(2), reader.GetString(3)),
        Canary: new TrackRoute(reader.GetString(4), reader.GetString(5)),
        Revision: reader.GetInt64(6),
        ForcedCanary: reader.GetBoolean(7));

    private static AgentRecord ReadAgent(Microsoft.Data.Sqlite.SqliteDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetString(3),
        reader.GetNullableString(4),
        reader.GetInt32(5),
        reader.GetInt32(6),
        reader.GetInt32(7),
        reader.GetInt64(8),
        reader.GetTime(9));

    private static RevisionRecord ReadRevision(Microsoft.Data.Sqlite.SqliteDataReader reader) => new(
        reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3), reader.GetTime(4), reader.GetString(5))
    {
        Build = reader.GetNullableString(6),
    };
}
