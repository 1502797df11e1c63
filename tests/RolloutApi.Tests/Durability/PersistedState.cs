using System.Text.Json;
using Microsoft.Data.Sqlite;
using RolloutApi.Model;
using RolloutApi.Storage;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Durability;

/// <summary>What a killed RolloutApi left on disk, read straight from its SQLite file, and the invariants it must satisfy.</summary>
public sealed record PersistedState(
    int Weight,
    int StableRevision,
    IReadOnlyList<PersistedRollout> Rollouts,
    IReadOnlyList<PersistedAudit> Audit,
    IReadOnlyDictionary<int, string> Revisions)
{
    public PersistedRollout? Active => Rollouts.SingleOrDefault(r => r.State.IsActive());

    public static async Task<PersistedState> ReadAsync(string databasePath)
    {
        // No pooling: the file must be free again before the next process starts.
        var connectionString = new SqliteConnectionStringBuilder { DataSource = databasePath, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString();
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();

        int weight = 0, stable = 0;
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT weight, stable_revision FROM agents";
            await using var reader = await command.ExecuteReaderAsync();
            if (await reader.ReadAsync())
            {
                (weight, stable) = (reader.GetInt32(0), reader.GetInt32(1));
            }
        }

        var rollouts = new List<PersistedRollout>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT id, steps, state, step_index, step_started_at, version, hold FROM rollouts ORDER BY id";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rollouts.Add(new PersistedRollout(
                    reader.GetInt64(0),
                    JsonSerializer.Deserialize<List<RolloutStep>>(reader.GetString(1), new JsonSerializerOptions(JsonSerializerDefaults.Web))!,
                    Enum.Parse<RolloutState>(reader.GetString(2)),
                    reader.GetInt32(3),
                    SqliteCommandExtensions.ParseTime(reader.GetString(4)),
                    reader.GetInt64(5),
                    reader.IsDBNull(6) ? null : reader.GetString(6)));
            }
        }

        var audit = new List<PersistedAudit>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT id, at, action, rollout_id, from_state, from_step, from_weight, to_state, to_step, to_weight FROM audit ORDER BY id
                """;
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                audit.Add(new PersistedAudit(
                    reader.GetInt64(0),
                    SqliteCommandExtensions.ParseTime(reader.GetString(1)),
                    reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetInt64(3),
                    reader.IsDBNull(6) ? null : new TransitionPoint(
                        reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetInt32(5), reader.GetInt32(6)),
                    new TransitionPoint(reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetInt32(8), reader.GetInt32(9))));
            }
        }

        var revisions = new Dictionary<int, string>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT number, version FROM revisions";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                revisions[reader.GetInt32(0)] = reader.GetString(1);
            }
        }

        return new PersistedState(weight, stable, rollouts, audit, revisions);
    }

    /// <summary>Every broken invariant (empty when the state is consistent).</summary>
    public List<string> Problems()
    {
        var problems = AuditChain.Problems(Audit.Select(a => (a.Id, a.RolloutId, a.Action, a.From, a.To)));
        if (Rollouts.Count(r => r.State.IsActive()) > 1)
        {
            problems.Add("more than one active rollout");
        }

        // The routing weight matches the rollout: what its steps set so far while active, 0 once it is over.
        var expected = Active is { } active ? (active.Step < 0 ? 0 : RolloutSteps.WeightAt(active.Steps, active.Step)) : 0;
        if (Weight != expected && !(Active is null && Rollouts.Count == 0))
        {
            problems.Add($"routed weight {Weight}, but the rollout state implies {expected}");
        }

        foreach (var rollout in Rollouts)
        {
            var entries = Audit.Where(a => a.RolloutId == rollout.Id).ToList();
            var last = entries[^1];
            if (last.To.State != rollout.State.ToString() || last.To.Step != (rollout.State == RolloutState.RolledBack ? null : rollout.Step))
            {
                problems.Add($"rollout {rollout.Id} is {rollout.State} at step {rollout.Step}, but its last audit entry says {last.To}");
            }

            if (rollout.State.IsActive() && entries.LastOrDefault(e => e.To.Step == rollout.Step && e.From?.Step != rollout.Step) is { } entered
                && entered.At != rollout.StepStartedAt && rollout.Step >= 0)
            {
                problems.Add($"rollout {rollout.Id}: step {rollout.Step} started at {rollout.StepStartedAt:O} but was entered at {entered.At:O} (timer reset)");
            }

            // A timed pause is left by the reconciler only after its full duration, counted from when it was entered.
            for (var i = 0; i < entries.Count; i++)
            {
                var leave = entries[i];
                if (leave.Action != TransitionActions.StepEntered || leave.From?.Step is not { } step || step < 0 || step >= rollout.Steps.Count
                    || rollout.Steps[step].Pause?.Duration is not { } duration)
                {
                    continue;
                }

                var enter = entries.Take(i).Last(e => e.To.Step == step && e.From?.Step != step);
                if (leave.At - enter.At < duration)
                {
                    problems.Add($"rollout {rollout.Id}: pause at step {step} ({duration.TotalSeconds}s) ended after {(leave.At - enter.At).TotalSeconds:0.000}s");
                }
            }
        }

        return problems;
    }
}

/// <summary>A rollout row as persisted.</summary>
public sealed record PersistedRollout(long Id, IReadOnlyList<RolloutStep> Steps, RolloutState State, int Step, DateTimeOffset StepStartedAt, long Version, string? Hold);

/// <summary>An audit row as persisted.</summary>
public sealed record PersistedAudit(long Id, DateTimeOffset At, string Action, long? RolloutId, TransitionPoint? From, TransitionPoint To);
