using System.Text.Json.Serialization;
using RolloutApi.Model;

namespace RolloutApi.Rollouts.Analysis;

/// <summary>
/// What one track showed in the window: request and error counts, the latency histogram (bucket counts, mergeable) and the
/// query's value. Any of them may be missing: a PromQL query gives only a value; <see cref="Requests"/> is -1 when unknown.
/// </summary>
public sealed record TrackSample(
    [property: JsonPropertyName("requests")] long Requests,
    [property: JsonPropertyName("errors")] long Errors,
    [property: JsonPropertyName("value")] double? Value,
    [property: JsonPropertyName("latencyBucketCounts"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<long>? Buckets = null,
    [property: JsonPropertyName("version"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Version = null)
{
    public const long Unknown = -1;

    public static TrackSample ValueOnly(double? value, string? version = null) => new(Unknown, Unknown, value, null, version);
}

/// <summary>One metric's reading: both tracks and the whole agent (their sum), over <see cref="From"/>..<see cref="To"/>.</summary>
public sealed record MetricSample(
    [property: JsonPropertyName("from")] DateTimeOffset From,
    [property: JsonPropertyName("to")] DateTimeOffset To,
    [property: JsonPropertyName("stable")] TrackSample Stable,
    [property: JsonPropertyName("canary")] TrackSample Canary,
    [property: JsonPropertyName("agent")] TrackSample Agent,
    [property: JsonPropertyName("latencyBucketBoundsMs"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<double>? BucketBoundsMs = null,
    [property: JsonPropertyName("replicas"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Replicas = null);

/// <summary>What a judge said about one metric, with the numbers it looked at.</summary>
public sealed record MetricResult(
    [property: JsonPropertyName("metric")] string Metric,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("judge")] string Judge,
    [property: JsonPropertyName("verdict")] AnalysisVerdict Verdict,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("statistic"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Statistic = null,
    [property: JsonPropertyName("sample"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] MetricSample? Sample = null);

/// <summary>Where and when to measure: the rollout, its tracks' versions, the weight and when it took effect.</summary>
public sealed record MeasurementContext(
    string Agent, long RolloutId, RevisionSpecView Stable, RevisionSpecView Canary, int Weight, DateTimeOffset Since, DateTimeOffset Now);

/// <summary>A track's revision, as sources template it into queries.</summary>
public sealed record RevisionSpecView(int Number, string Version);

/// <summary>A metric source, chosen by name (<see cref="MetricSpec.Source"/>). Throwing means "could not measure" (asked again later).</summary>
public interface IMetricSource
{
    string Name { get; }

    /// <summary>Problems with a query for this source (null when fine); checked when a template is saved.</summary>
    string? Check(MetricSpec metric);

    Task<MetricSample> MeasureAsync(MetricSpec metric, MeasurementContext context, CancellationToken cancellationToken);
}

/// <summary>A judge, chosen by name (<see cref="MetricSpec.Judge"/>). Pure: the same sample gives the same verdict.</summary>
public interface IAnalysisJudge
{
    string Name { get; }

    MetricResult Judge(MetricSpec metric, MetricSample sample, AnalysisTemplate template);
}
