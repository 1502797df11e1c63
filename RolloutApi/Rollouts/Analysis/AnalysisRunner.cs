
using RolloutApi.Model;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts.Analysis;

/// <summary>
/// Takes a run's next measurement when it is due: every metric measured and judged outside any transaction, then the
/// measurement and, if it decides the run, the run's verdict written in one transaction. The measurement number is the next
/// one after what is stored, and a number is written once, so a restart resumes without counting anything twice.
/// </summary>
public sealed partial class AnalysisRunner(
    SqliteDatabase database, AnalysisStore store, AnalysisTemplates templates, Notifications.Outbox outbox, TimeProvider time, ILogger<AnalysisRunner> logger)
{
    /// <summary>The run after this call (measured if it was due) and when its next measurement is due (null when finished).</summary>
    public async Task<(AnalysisRunRow Run, DateTimeOffset? NextAt)> AdvanceAsync(
        AnalysisRunRow run, MeasurementContext context, CancellationToken cancellationToken)
    {
        if (run.Finished)
        {
            return (run, null);
        }

        DateTimeOffset? last;
        await using (var session = await database.ReadAsync(cancellationToken))
        {
            (_, last) = await store.VerdictsAsync(session, run.Id, cancellationToken);
        }

        var due = last is { } at ? at + run.Document.Interval : run.StartedAt;
        if (context.Now < due)
        {
            return (run, due);
        }

        var results = new List<MetricResult>(run.Document.Metrics.Count);
        foreach (var metric in run.Document.Metrics)
        {
            results.Add(await MeasureAsync(metric, run.Document, context, cancellationToken));
        }

        var (verdict, summary) = RunRules.Combine(run.Document, results);
        await using var work = await database.BeginAsync(cancellationToken);
        var current = await store.GetRunAsync(work, run.Id, cancellationToken);
        var (verdicts, lastNow) = await store.VerdictsAsync(work, run.Id, cancellationToken);
        if (current is null || current.Finished || lastNow != last)
        {
            // Finished or measured meanwhile (a racing pass): this reading is dropped rather than counted twice.
            return (current ?? run, current is { Finished: false } ? (lastNow ?? context.Now) + run.Document.Interval : null);
        }

        var measurement = new MeasurementView(verdicts.Count + 1, work.Now, context.Since, context.Weight, verdict, summary, results);
        await store.InsertMeasurementAsync(work, run.Id, measurement, cancellationToken);
        var counts = RunRules.Count([.. verdicts, verdict]);
        var (state, runSummary) = RunRules.Decide(run.Kind == AnalysisRunKind.Background ? run.Document with { Count = 0 } : run.Document, counts);
        if (state != AnalysisRunState.Running)
        {
            runSummary = state == AnalysisRunState.Pass ? runSummary : $"{runSummary} Last measurement: {summary}";
        }

        await store.FinishRunAsync(work, run.Id, state, runSummary, cancellationToken);
        if (state != AnalysisRunState.Running)
        {
            await outbox.AddAsync(work, Notifications.Outbox.EventId("analysis-run", run.Id), "analysis." + state.ToString().ToLowerInvariant(),
                $"agents/{context.Agent}/rollouts/{context.RolloutId}/analysis-runs/{run.Id}", new
                {
                    agent = context.Agent,
                    rolloutId = context.RolloutId,
                    runId = run.Id,
                    kind = run.Kind.ToString(),
                    template = run.Template,
                    templateVersion = run.TemplateVersion,
                    verdict = state.ToString(),
                    summary = runSummary,
                    measurement = measurement.Number,
                    weight = context.Weight,
                }, cancellationToken);
        }

        await work.CommitAsync(cancellationToken);
        Log.Measured(logger, context.Agent, context.RolloutId, run.Id, measurement.Number, verdict, summary);
        var updated = run with { State = state, Summary = runSummary, FinishedAt = state == AnalysisRunState.Running ? null : work.Now };
        return (updated, state == AnalysisRunState.Running ? work.Now + run.Document.Interval : null);
    }

    /// <summary>One metric, measured and judged; a source that cannot answer makes it Inconclusive (never a Fail).</summary>
    private async Task<MetricResult> MeasureAsync(MetricSpec metric, AnalysisTemplate template, MeasurementContext context, CancellationToken cancellationToken)
    {
        MetricSample sample;
        try
        {
            sample = await templates.Source(metric.Source).MeasureAsync(metric, context, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            Log.SourceFailed(logger, metric.Source, metric.Name, context.Agent, ex);
            return new MetricResult(metric.Name, metric.Source, metric.Judge, AnalysisVerdict.Inconclusive, $"Could not measure: {ex.Message}");
        }

        return templates.Judge(metric.Judge).Judge(metric, sample, template);
    }

    /// <summary>The clock the runner measures by.</summary>
    public DateTimeOffset Now => time.GetUtcNow();

    private static partial class Log
    {
        [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "Analysis of {Agent} rollout {RolloutId}, run {RunId} measurement {Number}: {Verdict} ({Summary})")]
        public static partial void Measured(ILogger logger, string agent, long rolloutId, long runId, int number, AnalysisVerdict verdict, string summary);

        [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Metric source {Source} could not measure {Metric} for {Agent}")]
        public static partial void SourceFailed(ILogger logger, string source, string metric, string agent, Exception exception);
    }
}
