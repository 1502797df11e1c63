using System.Text.Json;
using Microsoft.Data.Sqlite;
using RolloutApi.Model;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts.Analysis;

/// <summary>Raw SQL for analysis templates, runs and measurements.</summary>
public sealed class AnalysisStore
{
    /// <summary>Stored documents are written by this class with these options: they are not user input when read back.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private const string RunColumns = """
        id, rollout_id, kind, step_index, rollout_version, template, template_version, document, state, summary, started_at, finished_at, acted_on
        """;

    // ------------------------------------------------------------------ templates

    public async Task<int> InsertTemplateAsync(
        UnitOfWork work, string agent, string name, AnalysisTemplate template, string actor, CancellationToken cancellationToken)
    {
        await using var command = work.Command("""
            INSERT INTO analysis_templates (agent, name, version, document, created_at, created_by)
            VALUES ($agent, $name, (SELECT COALESCE(MAX(version), 0) + 1 FROM analysis_templates WHERE agent = $agent AND name = $name),
                    $document, $at, $by)
            RETURNING version
            """)
            .With("$agent", agent).With("$name", name).With("$document", JsonSerializer.Serialize(template, Json))
            .With("$at", work.Now).With("$by", actor);
        return (int)await command.ScalarInt64Async(cancellationToken);
    }

    /// <summary>A saved version (the newest when <paramref name="version"/> is null).</summary>
    public async Task<AnalysisTemplateView?> GetTemplateAsync(
        ISqlSession session, string agent, string name, int? version, CancellationToken cancellationToken)
    {
        await using var command = session.Command("""
            SELECT agent, name, version, document, created_at, created_by FROM analysis_templates
            WHERE agent = $agent AND name = $name AND ($version IS NULL OR version = $version)
            ORDER BY version DESC LIMIT 1
            """).With("$agent", agent).With("$name", name).With("$version", version);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadTemplate(reader) : null;
    }

    /// <summary>The newest version of each saved template.</summary>
    public async Task<IReadOnlyList<AnalysisTemplateView>> ListTemplatesAsync(ISqlSession session, string agent, CancellationToken cancellationToken)
    {
        await using var command = session.Command("""
            SELECT t.agent, t.name, t.version, t.document, t.created_at, t.created_by FROM analysis_templates t
            WHERE t.agent = $agent AND t.version = (SELECT MAX(version) FROM analysis_templates WHERE agent = t.agent AND name = t.name)
            ORDER BY t.name
            """).With("$agent", agent);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<AnalysisTemplateView>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(ReadTemplate(reader));
        }

        return list;
    }

    // ------------------------------------------------------------------ runs

    /// <summary>Creates the run for this step attempt or background episode unless it exists; returns it either way.</summary>
    public async Task<AnalysisRunRow> EnsureRunAsync(
        UnitOfWork work, long rolloutId, AnalysisRunKind kind, int stepIndex, long rolloutVersion, AnalysisTemplateView template,
        CancellationToken cancellationToken)
    {
        await using (var insert = work.Command("""
            INSERT INTO analysis_template_runs (rollout_id, kind, step_index, rollout_version, template, template_version, document, state, summary, started_at)
            VALUES ($rollout, $kind, $step, $version, $template, $templateVersion, $document, 'Running', 'Started.', $at)
            ON CONFLICT (rollout_id, kind, step_index, rollout_version) DO NOTHING
            """)
            .With("$rollout", rolloutId).With("$kind", kind.ToString()).With("$step", stepIndex).With("$version", rolloutVersion)
            .With("$template", template.Name).With("$templateVersion", template.Version)
            .With("$document", JsonSerializer.Serialize(template.Definition, Json)).With("$at", work.Now))
        {
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var select = work.Command($"""
            SELECT {RunColumns} FROM analysis_template_runs
            WHERE rollout_id = $rollout AND kind = $kind AND step_index = $step AND rollout_version = $version
            """).With("$rollout", rolloutId).With("$kind", kind.ToString()).With("$step", stepIndex).With("$version", rolloutVersion);
        return (await ReadRunsAsync(select, cancellationToken))[0];
    }

    public async Task<AnalysisRunRow?> GetRunAsync(ISqlSession session, long id, CancellationToken cancellationToken)
    {
        await using var command = session.Command($"SELECT {RunColumns} FROM analysis_template_runs WHERE id = $id").With("$id", id);
        var runs = await ReadRunsAsync(command, cancellationToken);
        return runs.Count == 0 ? null : runs[0];
    }

    public async Task<AnalysisRunRow?> FindRunAsync(
        ISqlSession session, long rolloutId, AnalysisRunKind kind, int stepIndex, long rolloutVersion, CancellationToken cancellationToken)
    {
        await using var command = session.Command($"""
            SELECT {RunColumns} FROM analysis_template_runs
            WHERE rollout_id = $rollout AND kind = $kind AND step_index = $step AND rollout_version = $version
            """).With("$rollout", rolloutId).With("$kind", kind.ToString()).With("$step", stepIndex).With("$version", rolloutVersion);
        var runs = await ReadRunsAsync(command, cancellationToken);
        return runs.Count == 0 ? null : runs[0];
    }

    /// <summary>The rollout's newest background run (null when it runs none).</summary>
    public async Task<AnalysisRunRow?> LatestBackgroundRunAsync(ISqlSession session, long rolloutId, CancellationToken cancellationToken)
    {
        await using var command = session.Command($"""
            SELECT {RunColumns} FROM analysis_template_runs WHERE rollout_id = $rollout AND kind = 'Background' ORDER BY id DESC LIMIT 1
            """).With("$rollout", rolloutId);
        var runs = await ReadRunsAsync(command, cancellationToken);
        return runs.Count == 0 ? null : runs[0];
    }

    public async Task<IReadOnlyList<AnalysisRunRow>> ListRunsAsync(ISqlSession session, long rolloutId, CancellationToken cancellationToken)
    {
        await using var command = session.Command($"SELECT {RunColumns} FROM analysis_template_runs WHERE rollout_id = $rollout ORDER BY id")
            .With("$rollout", rolloutId);
        return await ReadRunsAsync(command, cancellationToken);
    }

    public async Task FinishRunAsync(UnitOfWork work, long runId, AnalysisRunState state, string summary, CancellationToken cancellationToken)
    {
        await using var command = work.Command("""
            UPDATE analysis_template_runs SET state = $state, summary = $summary, finished_at = CASE WHEN $state = 'Running' THEN NULL ELSE $at END
            WHERE id = $id AND state = 'Running'
            """).With("$id", runId).With("$state", state.ToString()).With("$summary", summary).With("$at", work.Now);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Marks the rollout's running runs Cancelled (it ended, or moved past their step), except <paramref name="keep"/>.</summary>
    public async Task CancelRunningAsync(UnitOfWork work, long rolloutId, string reason, long? keep, CancellationToken cancellationToken)
    {
        await using var command = work.Command("""
            UPDATE analysis_template_runs SET state = 'Cancelled', summary = $reason, finished_at = $at
            WHERE rollout_id = $rollout AND state = 'Running' AND ($keep IS NULL OR id <> $keep)
            """).With("$rollout", rolloutId).With("$reason", reason).With("$at", work.Now).With("$keep", keep);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Records that the rollout acted on the run's verdict (in the transition's transaction).</summary>
    public async Task MarkActedOnAsync(UnitOfWork work, long runId, CancellationToken cancellationToken)
    {
        await using var command = work.Command("UPDATE analysis_template_runs SET acted_on = 1 WHERE id = $id").With("$id", runId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Marks the rollout's running step runs Cancelled except <paramref name="keep"/> (a new attempt supersedes them).</summary>
    public async Task CancelStepRunsAsync(UnitOfWork work, long rolloutId, string reason, long keep, CancellationToken cancellationToken)
    {
        await using var command = work.Command("""
            UPDATE analysis_template_runs SET state = 'Cancelled', summary = $reason, finished_at = $at
            WHERE rollout_id = $rollout AND kind = 'Step' AND state = 'Running' AND id <> $keep
            """).With("$rollout", rolloutId).With("$reason", reason).With("$at", work.Now).With("$keep", keep);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // ------------------------------------------------------------------ measurements

    /// <summary>Appends measurement number <paramref name="number"/>; false when that number exists (someone measured first).</summary>
    public async Task<bool> InsertMeasurementAsync(UnitOfWork work, long runId, MeasurementView measurement, CancellationToken cancellationToken)
    {
        await using var command = work.Command("""
            INSERT INTO analysis_measurements (run_id, number, at, since, weight, verdict, summary, metrics)
            VALUES ($run, $number, $at, $since, $weight, $verdict, $summary, $metrics)
            ON CONFLICT (run_id, number) DO NOTHING
            """)
            .With("$run", runId).With("$number", measurement.Number).With("$at", measurement.At).With("$since", measurement.Since)
            .With("$weight", measurement.Weight).With("$verdict", measurement.Verdict.ToString()).With("$summary", measurement.Summary)
            .With("$metrics", JsonSerializer.Serialize(measurement.Metrics, Json));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<MeasurementView>> ListMeasurementsAsync(ISqlSession session, long runId, CancellationToken cancellationToken)
    {
        await using var command = session.Command("""
            SELECT number, at, since, weight, verdict, summary, metrics FROM analysis_measurements WHERE run_id = $run ORDER BY number
            """).With("$run", runId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<MeasurementView>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new MeasurementView(
                reader.GetInt32(0), reader.GetTime(1), reader.GetTime(2), reader.GetInt32(3), Enum.Parse<AnalysisVerdict>(reader.GetString(4)),
                reader.GetString(5), JsonSerializer.Deserialize<List<MetricResult>>(reader.GetString(6), Json) ?? []));
        }

        return list;
    }

    /// <summary>The verdicts so far and the newest measurement's time (what the limits and the next due time need).</summary>
    public async Task<(IReadOnlyList<AnalysisVerdict> Verdicts, DateTimeOffset? Last)> VerdictsAsync(
        ISqlSession session, long runId, CancellationToken cancellationToken)
    {
        await using var command = session.Command("SELECT verdict, at FROM analysis_measurements WHERE run_id = $run ORDER BY number")
            .With("$run", runId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var verdicts = new List<AnalysisVerdict>();
        DateTimeOffset? last = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            verdicts.Add(Enum.Parse<AnalysisVerdict>(reader.GetString(0)));
            last = reader.GetTime(1);
        }

        return (verdicts, last);
    }

    private static AnalysisTemplateView ReadTemplate(SqliteDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetInt32(2), BuiltIn: false, reader.GetTime(4), reader.GetString(5),
        JsonSerializer.Deserialize<AnalysisTemplate>(reader.GetString(3), Json)!);

    private static async Task<IReadOnlyList<AnalysisRunRow>> ReadRunsAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var runs = new List<AnalysisRunRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            runs.Add(new AnalysisRunRow(
                reader.GetInt64(0), reader.GetInt64(1), Enum.Parse<AnalysisRunKind>(reader.GetString(2)), reader.GetInt32(3), reader.GetInt64(4),
                reader.GetString(5), reader.GetInt32(6), JsonSerializer.Deserialize<AnalysisTemplate>(reader.GetString(7), Json)!,
                Enum.Parse<AnalysisRunState>(reader.GetString(8)), reader.GetString(9), reader.GetTime(10), reader.GetNullableTime(11))
            {
                ActedOn = reader.GetInt64(12) != 0,
            });
        }

        return runs;
    }
}
