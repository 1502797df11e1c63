using System.Globalization;
using System.Text.Json.Serialization;
using RolloutApi.Rollouts.Analysis.Sources;

namespace RolloutApi.Rollouts.Analysis;

/// <summary>
/// An analysis template (Argo Rollouts' AnalysisTemplate, Kayenta's canary config): the metrics to measure, how each is
/// judged, and when the run decides. Stored per agent and versioned; a run keeps the version it started with.
/// </summary>
/// <param name="Metrics">What to measure and how to judge it (1-20).</param>
/// <param name="IntervalSeconds">Seconds between measurements (1-3600).</param>
/// <param name="Count">
/// Decisive (Pass or Fail) measurements a step's run takes before it passes; 0 = until the rollout ends (what a background run
/// does anyway).
/// </param>
/// <param name="FailureLimit">Failed measurements tolerated; one more fails the run (and aborts the rollout).</param>
/// <param name="InconclusiveLimit">Consecutive inconclusive measurements tolerated; one more pauses the rollout for a human.</param>
/// <param name="MinSamples">Requests each track needs in the window before a judge may pass it (a judge fails earlier only when it can).</param>
/// <param name="PassScore">Kayenta scoring (optional): the share (0-100) of decided metrics that must pass for a Pass.</param>
/// <param name="MarginalScore">Kayenta scoring: at or above this (and below <paramref name="PassScore"/>) the measurement is Inconclusive; below it, Fail.</param>
public sealed record AnalysisTemplate(
    [property: JsonPropertyName("metrics")] IReadOnlyList<MetricSpec> Metrics,
    [property: JsonPropertyName("intervalSeconds")] int IntervalSeconds = AnalysisTemplate.DefaultIntervalSeconds,
    [property: JsonPropertyName("count")] int Count = 1,
    [property: JsonPropertyName("failureLimit")] int FailureLimit = 0,
    [property: JsonPropertyName("inconclusiveLimit")] int InconclusiveLimit = AnalysisTemplate.DefaultInconclusiveLimit,
    [property: JsonPropertyName("minSamples")] long MinSamples = AnalysisTemplate.DefaultMinSamples,
    [property: JsonPropertyName("passScore"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? PassScore = null,
    [property: JsonPropertyName("marginalScore"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? MarginalScore = null)
{
    public const int DefaultIntervalSeconds = 5;
    public const int DefaultInconclusiveLimit = 12;
    public const long DefaultMinSamples = 50;
    public const int MaxMetrics = 20;
    public const int MaxNameLength = 63;

    [JsonIgnore]
    public TimeSpan Interval => TimeSpan.FromSeconds(IntervalSeconds);

    /// <summary>Problems, keyed by JSON path (empty when valid). <paramref name="isKnown"/> answers "source"/"judge" names.</summary>
    public Dictionary<string, string[]> Validate(Func<string, string, bool> isKnown)
    {
        var errors = new Dictionary<string, string[]>();
        void Add(string key, string message) => errors[key] = [message];

        if (Metrics is null || Metrics.Count is 0 or > MaxMetrics)
        {
            Add("metrics", $"A template has 1-{MaxMetrics} metrics.");
            return errors;
        }

        if (IntervalSeconds is < 1 or > 3600)
        {
            Add("intervalSeconds", "intervalSeconds is 1-3600.");
        }

        if (Count is < 0 or > 1000)
        {
            Add("count", "count is 0-1000 (0: until the rollout ends).");
        }

        if (FailureLimit is < 0 or > 1000)
        {
            Add("failureLimit", "failureLimit is 0-1000.");
        }

        if (InconclusiveLimit is < 0 or > 10_000)
        {
            Add("inconclusiveLimit", "inconclusiveLimit is 0-10000.");
        }

        if (MinSamples is < 0 or > 100_000_000)
        {
            Add("minSamples", "minSamples is 0-100000000.");
        }

        if (PassScore is { } pass && (pass is < 0 or > 100 || MarginalScore is not { } marginal || marginal < 0 || marginal > pass))
        {
            Add("passScore", "passScore and marginalScore go together, with 0 <= marginalScore <= passScore <= 100.");
        }
        else if (PassScore is null && MarginalScore is not null)
        {
            Add("marginalScore", "marginalScore needs passScore.");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Metrics.Count; i++)
        {
            var key = string.Create(CultureInfo.InvariantCulture, $"metrics[{i}]");
            if (Metrics[i] is not { } metric)
            {
                Add(key, "A metric must be an object.");
                continue;
            }

            foreach (var (field, message) in metric.Validate(isKnown))
            {
                Add($"{key}.{field}", message);
            }

            if (!string.IsNullOrEmpty(metric.Name) && !names.Add(metric.Name))
            {
                Add($"{key}.name", $"Metric names are unique; '{metric.Name}' is used twice.");
            }
        }

        return errors;
    }

    public static bool IsValidName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxNameLength && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
        && char.IsAsciiLetterOrDigit(name[0]);
}

/// <summary>How a judge compares the canary: with stable as a ratio or difference, or the value against a threshold.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Comparison>))]
public enum Comparison
{
    [JsonStringEnumMemberName("ratio")] Ratio,
    [JsonStringEnumMemberName("difference")] Difference,
    [JsonStringEnumMemberName("absolute")] Absolute,
}

/// <summary>Which way is bad: <c>increase</c> (errors, latency), <c>decrease</c> (throughput) or <c>either</c>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Direction>))]
public enum Direction
{
    [JsonStringEnumMemberName("increase")] Increase,
    [JsonStringEnumMemberName("decrease")] Decrease,
    [JsonStringEnumMemberName("either")] Either,
}

/// <summary>
/// A PromQL range query (<c>query_range</c>) over the metric's window, every <see cref="StepSeconds"/>: at each step the
/// series are summed, and the steps reduced to one value by <see cref="Reduce"/>.
/// </summary>
public sealed record RangeSpec(
    [property: JsonPropertyName("stepSeconds")] int StepSeconds,
    [property: JsonPropertyName("reduce")] RangeReduce Reduce = RangeReduce.Last);

/// <summary>How a range query's steps become one value.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RangeReduce>))]
public enum RangeReduce
{
    [JsonStringEnumMemberName("last")] Last,
    [JsonStringEnumMemberName("avg")] Avg,
    [JsonStringEnumMemberName("max")] Max,
    [JsonStringEnumMemberName("min")] Min,
}

/// <summary>What a metric is measured over: the canary (against stable), or the whole agent (both tracks together).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<MetricScope>))]
public enum MetricScope
{
    [JsonStringEnumMemberName("canary")] Canary,
    [JsonStringEnumMemberName("agent")] Agent,
}

/// <summary>
/// One metric: where it comes from (<see cref="Source"/> + <see cref="Query"/>), and how it is judged (<see cref="Judge"/> and
/// that judge's knobs). Unused knobs are ignored.
/// </summary>
/// <param name="Name">Unique in the template; lower-case letters, digits, '-'.</param>
/// <param name="Source">A metric source: <c>gateway</c> (built in) or <c>prometheus</c>.</param>
/// <param name="Query">
/// gateway: <c>error-rate</c>, <c>errors</c>, <c>latency</c>, <c>latency-p50|p95|p99</c>, <c>requests</c>. prometheus: PromQL with
/// <c>{{agent}}</c>, <c>{{track}}</c>, <c>{{version}}</c>, <c>{{window}}</c> placeholders.
/// </param>
/// <param name="Judge"><c>threshold</c>, <c>sequential</c> or <c>mann-whitney</c>.</param>
/// <param name="WindowSeconds">Look at the last N seconds instead of "since the current weight took effect".</param>
/// <param name="Range">prometheus: a range query over the window (<c>query_range</c> with this step), reduced to one value.</param>
public sealed record MetricSpec(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("query")] string Query,
    [property: JsonPropertyName("judge")] string Judge,
    [property: JsonPropertyName("scope")] MetricScope Scope = MetricScope.Canary,
    [property: JsonPropertyName("comparison")] Comparison Comparison = Comparison.Difference,
    [property: JsonPropertyName("direction")] Direction Direction = Direction.Increase,
    [property: JsonPropertyName("tolerance"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Tolerance = null,
    [property: JsonPropertyName("threshold"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Threshold = null,
    [property: JsonPropertyName("alpha"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Alpha = null,
    [property: JsonPropertyName("confidence"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Confidence = null,
    [property: JsonPropertyName("effectSize"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? EffectSize = null,
    [property: JsonPropertyName("windowSeconds"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? WindowSeconds = null,
    [property: JsonPropertyName("range"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] RangeSpec? Range = null)
{
    public const int MaxQueryLength = 4000;

    internal IEnumerable<(string Field, string Message)> Validate(Func<string, string, bool> isKnown)
    {
        if (!AnalysisTemplate.IsValidName(Name))
        {
            yield return ("name", $"A metric name is 1-{AnalysisTemplate.MaxNameLength} of a-z, 0-9 and '-'.");
        }

        if (string.IsNullOrEmpty(Source) || !isKnown("source", Source))
        {
            yield return ("source", $"No metric source named '{Source}' (known: gateway, prometheus).");
        }

        if (string.IsNullOrWhiteSpace(Query) || Query.Length > MaxQueryLength)
        {
            yield return ("query", $"A query is 1-{MaxQueryLength} characters.");
        }

        if (string.IsNullOrEmpty(Judge) || !isKnown("judge", Judge))
        {
            yield return ("judge", $"No judge named '{Judge}' (known: threshold, sequential, mann-whitney).");
        }

        if (Tolerance is { } tolerance && (double.IsNaN(tolerance) || tolerance < 0))
        {
            yield return ("tolerance", "tolerance is a number >= 0.");
        }

        if (Comparison == Comparison.Absolute && Judge == Judges.ThresholdJudge.JudgeName && Threshold is null)
        {
            yield return ("threshold", "An absolute comparison needs a threshold.");
        }

        if (Threshold is { } threshold && !double.IsFinite(threshold))
        {
            yield return ("threshold", "threshold is a finite number.");
        }

        if (Alpha is { } alpha && alpha is <= 0 or >= 0.5)
        {
            yield return ("alpha", "alpha is in (0, 0.5).");
        }

        if (Confidence is { } confidence && confidence is <= 0.5 or >= 1)
        {
            yield return ("confidence", "confidence is in (0.5, 1).");
        }

        if (EffectSize is { } effect && (double.IsNaN(effect) || effect < 0))
        {
            yield return ("effectSize", "effectSize is a number >= 0.");
        }

        if (WindowSeconds is { } window && window is < 1 or > 600)
        {
            yield return ("windowSeconds", "windowSeconds is 1-600.");
        }

        if (Range is { } range)
        {
            if (Source != PrometheusMetricSource.SourceName)
            {
                yield return ("range", "A range query is for the prometheus source.");
            }

            if (range.StepSeconds is < 1 or > 3600)
            {
                yield return ("range.stepSeconds", "range.stepSeconds is 1-3600.");
            }

            if (!Enum.IsDefined(range.Reduce))
            {
                yield return ("range.reduce", "range.reduce is one of last, avg, max, min.");
            }
        }
    }
}
