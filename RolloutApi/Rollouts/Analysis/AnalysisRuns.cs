using System.Text.Json.Serialization;
using RolloutApi.Model;

namespace RolloutApi.Rollouts.Analysis;

/// <summary>A step's analysis, or the one a rollout runs in the background from its first step to promotion.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AnalysisRunKind>))]
public enum AnalysisRunKind
{
    Step,
    Background,
}

/// <summary>A run's state: Running until a verdict; Cancelled when its rollout moved on without one (e.g. promoted past it).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AnalysisRunState>))]
public enum AnalysisRunState
{
    Running,
    Pass,
    Fail,
    Inconclusive,
    Cancelled,
}

/// <summary>
/// One analysis run, as <c>GET …/analysis-runs</c> shows it: the template it runs (name, version and the document itself), its
/// state and every measurement so far, oldest first. <see cref="NextMeasurementAt"/> is when the next one is due (Running only).
/// </summary>
public sealed record AnalysisRunDetail(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("rolloutId")] long RolloutId,
    [property: JsonPropertyName("kind")] AnalysisRunKind Kind,
    [property: JsonPropertyName("stepIndex")] int? StepIndex,
    [property: JsonPropertyName("template")] string Template,
    [property: JsonPropertyName("templateVersion")] int TemplateVersion,
    [property: JsonPropertyName("state")] AnalysisRunState State,
    [property: JsonPropertyName("summary")] string Summary,
    [property: JsonPropertyName("startedAt")] DateTimeOffset StartedAt,
    [property: JsonPropertyName("finishedAt")] DateTimeOffset? FinishedAt,
    [property: JsonPropertyName("nextMeasurementAt")] DateTimeOffset? NextMeasurementAt,
    [property: JsonPropertyName("counts")] MeasurementCounts Counts,
    [property: JsonPropertyName("definition")] AnalysisTemplate Definition,
    [property: JsonPropertyName("measurements")] IReadOnlyList<MeasurementView> Measurements);

/// <summary>How the measurements went: what the limits are checked against.</summary>
public sealed record MeasurementCounts(
    [property: JsonPropertyName("measurements")] int Measurements,
    [property: JsonPropertyName("pass")] int Pass,
    [property: JsonPropertyName("fail")] int Fail,
    [property: JsonPropertyName("inconclusive")] int Inconclusive,
    [property: JsonPropertyName("consecutiveInconclusive")] int ConsecutiveInconclusive);

/// <summary>One measurement: when, over which window and weight, the verdict and each metric's reading and reason.</summary>
public sealed record MeasurementView(
    [property: JsonPropertyName("number")] int Number,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("since")] DateTimeOffset Since,
    [property: JsonPropertyName("weight")] int Weight,
    [property: JsonPropertyName("verdict")] AnalysisVerdict Verdict,
    [property: JsonPropertyName("summary")] string Summary,
    [property: JsonPropertyName("metrics")] IReadOnlyList<MetricResult> Metrics);

/// <summary>A stored run (the view without measurements).</summary>
public sealed record AnalysisRunRow(
    long Id, long RolloutId, AnalysisRunKind Kind, int StepIndex, long RolloutVersion, string Template, int TemplateVersion,
    AnalysisTemplate Document, AnalysisRunState State, string Summary, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt)
{
    /// <summary>The rollout transition that follows the verdict (abort, hold) has committed.</summary>
    public bool ActedOn { get; init; }

    public bool Finished => State != AnalysisRunState.Running;
}

/// <summary>A saved template version.</summary>
public sealed record AnalysisTemplateView(
    [property: JsonPropertyName("agent")] string Agent,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("builtIn")] bool BuiltIn,
    [property: JsonPropertyName("createdAt")] DateTimeOffset? CreatedAt,
    [property: JsonPropertyName("createdBy")] string CreatedBy,
    [property: JsonPropertyName("definition")] AnalysisTemplate Definition);

/// <summary>The rules that turn measurements into a run verdict (Argo Rollouts' limits).</summary>
public static class RunRules
{
    public static MeasurementCounts Count(IReadOnlyList<AnalysisVerdict> verdicts)
    {
        var streak = 0;
        for (var i = verdicts.Count - 1; i >= 0 && verdicts[i] == AnalysisVerdict.Inconclusive; i--)
        {
            streak++;
        }

        return new MeasurementCounts(
            verdicts.Count,
            verdicts.Count(v => v == AnalysisVerdict.Pass),
            verdicts.Count(v => v == AnalysisVerdict.Fail),
            verdicts.Count(v => v == AnalysisVerdict.Inconclusive),
            streak);
    }

    /// <summary>
    /// Fail once failures exceed the failure limit; Inconclusive once consecutive inconclusive measurements exceed the
    /// inconclusive limit (the rollout then waits for a human: no data never fails); Pass after <c>count</c> decisive
    /// measurements (never for count 0, which runs until the rollout ends); else still Running.
    /// </summary>
    public static (AnalysisRunState State, string Summary) Decide(AnalysisTemplate template, MeasurementCounts counts)
    {
        if (counts.Fail > template.FailureLimit)
        {
            return (AnalysisRunState.Fail, $"{counts.Fail} failed measurement(s), limit {template.FailureLimit}.");
        }

        if (counts.ConsecutiveInconclusive > template.InconclusiveLimit)
        {
            return (AnalysisRunState.Inconclusive,
                $"{counts.ConsecutiveInconclusive} inconclusive measurements in a row, limit {template.InconclusiveLimit}: too little data to judge.");
        }

        if (template.Count > 0 && counts.Pass + counts.Fail >= template.Count)
        {
            return (AnalysisRunState.Pass, $"{counts.Pass} of {counts.Pass + counts.Fail} decisive measurement(s) passed.");
        }

        return (AnalysisRunState.Running, $"{counts.Measurements} measurement(s): {counts.Pass} pass, {counts.Fail} fail, {counts.Inconclusive} inconclusive.");
    }

    /// <summary>
    /// One measurement's verdict from its metrics: with Kayenta scoring (<see cref="AnalysisTemplate.PassScore"/>) the share of
    /// decided metrics that passed against the pass and marginal scores; otherwise any Fail fails, any Inconclusive holds.
    /// </summary>
    public static (AnalysisVerdict Verdict, string Summary) Combine(AnalysisTemplate template, IReadOnlyList<MetricResult> results)
    {
        var failed = results.Where(r => r.Verdict == AnalysisVerdict.Fail).Select(r => r.Metric).ToList();
        var undecided = results.Where(r => r.Verdict == AnalysisVerdict.Inconclusive).Select(r => r.Metric).ToList();
        if (template.PassScore is { } passScore)
        {
            var decided = results.Count - undecided.Count;
            if (decided == 0)
            {
                return (AnalysisVerdict.Inconclusive, $"No metric could be judged ({string.Join(", ", undecided)}).");
            }

            var score = 100.0 * (decided - failed.Count) / decided;
            var verdict = score >= passScore ? AnalysisVerdict.Pass
                : score >= template.MarginalScore ? AnalysisVerdict.Inconclusive
                : AnalysisVerdict.Fail;
            return (verdict, $"Score {score:0.#} (pass {passScore:0.#}, marginal {template.MarginalScore:0.#}); failed: {Names(failed)}.");
        }

        if (failed.Count > 0)
        {
            return (AnalysisVerdict.Fail, $"Failed: {string.Join("; ", results.Where(r => r.Verdict == AnalysisVerdict.Fail).Select(r => $"{r.Metric}: {r.Reason}"))}");
        }

        return undecided.Count > 0
            ? (AnalysisVerdict.Inconclusive, $"Inconclusive: {string.Join("; ", results.Where(r => r.Verdict == AnalysisVerdict.Inconclusive).Select(r => $"{r.Metric}: {r.Reason}"))}")
            : (AnalysisVerdict.Pass, $"All {results.Count} metric(s) passed.");
    }

    private static string Names(List<string> names) => names.Count == 0 ? "none" : string.Join(", ", names);
}
