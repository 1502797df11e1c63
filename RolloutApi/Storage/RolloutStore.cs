using System.Text.Json;
using Microsoft.Data.Sqlite;
using RolloutApi.Model;

namespace RolloutApi.Storage;

/// <summary>A finished analysis, as recorded.</summary>
public sealed record AnalysisRunRecord(long Id, long RolloutId, int StepIndex, string Provider, AnalysisVerdict Verdict, string Summary, DateTimeOffset At);

/// <summary>One audit-log row.</summary>
public sealed record AuditRecord(
    long Id,
    string Agent,
    DateTimeOffset At,
    string Actor,
    string Action,
    string Reason,
    long? RolloutId,
    TransitionPoint? From,
    TransitionPoint To);

/// <summary>Raw SQL for rollouts, analysis runs and reading the audit log.</summary>
public sealed class RolloutStore
{
    private const string Columns = """
        id, agent, from_revision, to_revision, steps, state, step_index, step_started_at, hold, version, message,
        created_at, created_by, updated_at, completed_at
        """;

    // Steps are stored as written by the engine, with the engine's own options: stored data is not user input.
    private static readonly JsonSerializerOptions StepJson = new(JsonSerializerDefaults.Web);

    public async Task<long> InsertAsync(UnitOfWork work, RolloutRecord rollout, CancellationToken cancellationToken)
    {
        await using var command = work.Command($"""
            INSERT INTO rollouts (agent, from_revision, to_revision, steps, state, step_index, step_started_at, hold, version, message,
                                  created_at, created_by, updated_at, completed_at)
            VALUES ($agent, $from, $to, $steps, $state, $step, $stepStartedAt, $hold, $version, $message,
                    $createdAt, $createdBy, $updatedAt, $completedAt)
            RETURNING id
            """)
            .With("$agent", rollout.Agent)
            .With("$from", rollout.FromRevision)
            .With("$to", rollout.ToRevision)
            .With("$steps", JsonSerializer.Serialize(rollout.Steps, StepJson))
            .With("$state", rollout.State.ToString())
            .With("$step", rollout.StepIndex)
            .With("$stepStartedAt", rollout.StepStartedAt)
            .With("$hold", rollout.Hold?.ToString())
            .With("$version", rollout.Version)
            .With("$message", rollout.Message)
            .With("$createdAt", rollout.CreatedAt)
            .With("$createdBy", rollout.CreatedBy)
            .With("$updatedAt", rollout.UpdatedAt)
            .With("$completedAt", rollout.CompletedAt);
        return await command.ScalarInt64Async(cancellationToken);
    }

    /// <summary>Writes the mutable columns of <paramref name="rollout"/> (its version must already be the next one).</summary>
    public async Task UpdateAsync(UnitOfWork work, RolloutRecord rollout, CancellationToken cancellationToken)
    {
        await using var command = work.Command("""
            UPDATE rollouts
            SET from_revision = $from, state = $state, step_index = $step, step_started_at = $stepStartedAt, hold = $hold,
                version = $version, message = $message, updated_at = $updatedAt, completed_at = $completedAt
            WHERE id = $id AND version = $version - 1
            """)
            .With("$id", rollout.Id)
            .With("$from", rollout.FromRevision)
            .With("$state", rollout.State.ToString())
            .With("$step", rollout.StepIndex)
            .With("$stepStartedAt", rollout.StepStartedAt)
            .With("$hold", rollout.Hold?.ToString())
            .With("$version", rollout.Version)
            .With("$message", rollout.Message)
            .With("$updatedAt", rollout.UpdatedAt)
            .With("$completedAt", rollout.CompletedAt);
        if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            // Cannot happen under BEGIN IMMEDIATE with the row read in the same transaction; refuse rather than double-apply.
            throw new InvalidOperationException($"Rollout {rollout.Id} changed underneath its own transaction.");
        }
    }

    public async Task<RolloutRecord?> GetAsync(ISqlSession session, long id, CancellationToken cancellationToken)
    {
        await using var command = session.Command($"SELECT {Columns} FROM rollouts WHERE id = $id").With("$id", id);
        return await ReadOneAsync(command, cancellationToken);
    }

    public async Task<RolloutRecord?> GetForAgentAsync(ISqlSession session, string agent, long id, CancellationToken cancellationToken)
    {
        await using var command = session.Command($"SELECT {Columns} FROM rollouts WHERE id = $id AND agent = $agent")
            .With("$id", id).With("$agent", agent);
        return await ReadOneAsync(command, cancellationToken);
    }

    /// <summary>The agent's newest rollout (active or not): the one <c>/rollout</c> operations act on.</summary>
    public async Task<RolloutRecord?> GetLatestAsync(ISqlSession session, string agent, CancellationToken cancellationToken)
    {
        await using var command = session.Command($"SELECT {Columns} FROM rollouts WHERE agent = $agent ORDER BY id DESC LIMIT 1")
            .With("$agent", agent);
        return await ReadOneAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<RolloutRecord>> ListAsync(ISqlSession session, string agent, int limit, CancellationToken cancellationToken)
    {
        await using var command = session.Command($"SELECT {Columns} FROM rollouts WHERE agent = $agent ORDER BY id DESC LIMIT $limit")
            .With("$agent", agent).With("$limit", limit);
        return await ReadAllAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<RolloutRecord>> ListActiveAsync(ISqlSession session, CancellationToken cancellationToken)
    {
        await using var command = session.Command($"SELECT {Columns} FROM rollouts WHERE state IN ({RolloutStates.ActiveSqlList}) ORDER BY id");
        return await ReadAllAsync(command, cancellationToken);
    }

    /// <summary>The revision that was stable before the current one: where the last promotion or undo came from.</summary>
    public async Task<int?> PreviousStableRevisionAsync(ISqlSession session, string agent, int currentStable, CancellationToken cancellationToken)
    {
        await using var command = session.Command("""
            SELECT from_revision FROM rollouts
            WHERE agent = $agent AND state IN ('Promoted', 'RolledBack') AND to_revision = $stable
            ORDER BY id DESC LIMIT 1
            """).With("$agent", agent).With("$stable", currentStable);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null ? null : Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>When this rollout last changed the canary weight (the start of the window an analysis should look at).</summary>
    public async Task<DateTimeOffset?> LastWeightChangeAsync(ISqlSession session, long rolloutId, CancellationToken cancellationToken)
    {
        await using var command = session.Command("""
            SELECT at FROM audit
            WHERE rollout_id = $rollout AND (from_weight IS NULL OR from_weight <> to_weight)
            ORDER BY id DESC LIMIT 1
            """).With("$rollout", rolloutId);
        return await command.ExecuteScalarAsync(cancellationToken) is string at ? SqliteCommandExtensions.ParseTime(at) : null;
    }

    public async Task InsertAnalysisRunAsync(UnitOfWork work, AnalysisRunRecord run, CancellationToken cancellationToken)
    {
        await using var command = work.Command("""
            INSERT INTO analysis_runs (rollout_id, step_index, provider, verdict, summary, at)
            VALUES ($rollout, $step, $provider, $verdict, $summary, $at)
            """)
            .With("$rollout", run.RolloutId)
            .With("$step", run.StepIndex)
            .With("$provider", run.Provider)
            .With("$verdict", run.Verdict.ToString())
            .With("$summary", run.Summary)
            .With("$at", run.At);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<AnalysisRunRecord?> LastAnalysisRunAsync(ISqlSession session, long rolloutId, CancellationToken cancellationToken)
    {
        await using var command = session.Command("""
            SELECT id, rollout_id, step_index, provider, verdict, summary, at FROM analysis_runs
            WHERE rollout_id = $rollout ORDER BY id DESC LIMIT 1
            """).With("$rollout", rolloutId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new AnalysisRunRecord(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt32(2), reader.GetString(3),
                Enum.Parse<AnalysisVerdict>(reader.GetString(4)), reader.GetString(5), reader.GetTime(6))
            : null;
    }

    /// <summary>Audit entries, newest first: the agent's (optionally one rollout's), older than <paramref name="before"/>.</summary>
    public async Task<IReadOnlyList<AuditRecord>> ListAuditAsync(
        ISqlSession session, string agent, long? rolloutId, long? before, int limit, CancellationToken cancellationToken)
    {
        await using var command = session.Command("""
            SELECT id, agent, at, actor, action, reason, rollout_id, from_state, from_step, from_weight, to_state, to_step, to_weight
            FROM audit
            WHERE agent = $agent AND ($rollout IS NULL OR rollout_id = $rollout) AND ($before IS NULL OR id < $before)
            ORDER BY id DESC LIMIT $limit
            """).With("$agent", agent).With("$rollout", rolloutId).With("$before", before).With("$limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var entries = new List<AuditRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            TransitionPoint? from = reader.IsDBNull(9) ? null
                : new TransitionPoint(reader.GetNullableString(7), reader.GetNullableInt32(8), reader.GetInt32(9));
            entries.Add(new AuditRecord(
                reader.GetInt64(0), reader.GetString(1), reader.GetTime(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                reader.GetNullableInt64(6), from,
                new TransitionPoint(reader.GetNullableString(10), reader.GetNullableInt32(11), reader.GetInt32(12))));
        }

        return entries;
    }

    private static async Task<RolloutRecord?> ReadOneAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    private static async Task<IReadOnlyList<RolloutRecord>> ReadAllAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rollouts = new List<RolloutRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rollouts.Add(Read(reader));
        }

        return rollouts;
    }

    private static RolloutRecord Read(SqliteDataReader reader) => new(
        Id: reader.GetInt64(0),
        Agent: reader.GetString(1),
        FromRevision: reader.GetInt32(2),
        ToRevision: reader.GetInt32(3),
        Steps: JsonSerializer.Deserialize<List<RolloutStep>>(reader.GetString(4), StepJson) ?? [],
        State: RolloutStates.Parse(reader.GetString(5)),
        StepIndex: reader.GetInt32(6),
        StepStartedAt: reader.GetTime(7),
        Hold: reader.GetNullableString(8) is { } hold ? Enum.Parse<RolloutHold>(hold) : null,
        Version: reader.GetInt64(9),
        Message: reader.GetString(10),
        CreatedAt: reader.GetTime(11),
        CreatedBy: reader.GetString(12),
        UpdatedAt: reader.GetTime(13),
        CompletedAt: reader.GetNullableTime(14));
}
