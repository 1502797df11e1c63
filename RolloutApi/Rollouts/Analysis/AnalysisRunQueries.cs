using RolloutApi.Storage;

namespace RolloutApi.Rollouts.Analysis;

/// <summary>Reads a rollout's analysis runs with their measurements, in one snapshot.</summary>
public sealed class AnalysisRunQueries(SqliteDatabase database, RolloutStore rollouts, AnalysisStore store)
{
    /// <summary>The runs of rollout <paramref name="rolloutId"/> (the newest rollout when null); null when there is no such rollout.</summary>
    public async Task<(long RolloutId, IReadOnlyList<AnalysisRunDetail> Runs)?> ListAsync(string agent, long? rolloutId, CancellationToken cancellationToken)
    {
        await using var session = await database.ReadAsync(cancellationToken);
        var rollout = rolloutId is { } id
            ? await rollouts.GetForAgentAsync(session, agent, id, cancellationToken)
            : await rollouts.GetLatestAsync(session, agent, cancellationToken);
        if (rollout is null)
        {
            return null;
        }

        var views = new List<AnalysisRunDetail>();
        foreach (var run in await store.ListRunsAsync(session, rollout.Id, cancellationToken))
        {
            views.Add(await ViewAsync(session, run, cancellationToken));
        }

        return (rollout.Id, views);
    }

    public async Task<AnalysisRunDetail?> GetAsync(string agent, long rolloutId, long runId, CancellationToken cancellationToken)
    {
        await using var session = await database.ReadAsync(cancellationToken);
        var rollout = await rollouts.GetForAgentAsync(session, agent, rolloutId, cancellationToken);
        var run = rollout is null ? null : await store.GetRunAsync(session, runId, cancellationToken);
        return run is null || run.RolloutId != rolloutId ? null : await ViewAsync(session, run, cancellationToken);
    }

    private async Task<AnalysisRunDetail> ViewAsync(ISqlSession session, AnalysisRunRow run, CancellationToken cancellationToken)
    {
        var measurements = await store.ListMeasurementsAsync(session, run.Id, cancellationToken);
        var counts = RunRules.Count([.. measurements.Select(m => m.Verdict)]);
        DateTimeOffset? next = run.Finished ? null : measurements.Count == 0 ? run.StartedAt : measurements[^1].At + run.Document.Interval;
        return new AnalysisRunDetail(
            run.Id, run.RolloutId, run.Kind, run.Kind == AnalysisRunKind.Step ? run.StepIndex : null, run.Template, run.TemplateVersion, run.State,
            run.Summary, run.StartedAt, run.FinishedAt, next, counts, run.Document, measurements);
    }
}
