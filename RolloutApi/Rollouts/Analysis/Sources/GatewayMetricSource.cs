using AgentAspire.Contracts;
using RolloutApi.Gateways;

namespace RolloutApi.Rollouts.Analysis.Sources;

/// <summary>The queries the <c>gateway</c> source answers.</summary>
public static class GatewayQueries
{
    public const string ErrorRate = "error-rate";
    public const string Errors = "errors";
    public const string Requests = "requests";
    public const string Latency = "latency";
    public const string LatencyP50 = "latency-p50";
    public const string LatencyP95 = "latency-p95";
    public const string LatencyP99 = "latency-p99";

    public static readonly IReadOnlyList<string> All = [ErrorRate, Errors, Requests, Latency, LatencyP50, LatencyP95, LatencyP99];

    /// <summary>Latency queries give the distribution judges the histogram; the others give [ok, error] counts.</summary>
    public static bool IsLatency(string query) => query.StartsWith(Latency, StringComparison.Ordinal);
}

/// <summary>
/// The built-in source: what every gateway replica saw per track (requests, 5xx + transport errors, latency buckets) since
/// the current weight took effect (or over the metric's window, never reaching back before the weight change), merged
/// across replicas. The value of <c>latency</c> is the
/// p99 in ms; <c>error-rate</c> is errors / requests.
/// </summary>
public sealed class GatewayMetricSource(GatewayStatsReader reader) : IMetricSource
{
    public const string SourceName = "gateway";

    public string Name => SourceName;

    public string? Check(MetricSpec metric) => GatewayQueries.All.Contains(metric.Query)
        ? null
        : $"The gateway source answers {string.Join(", ", GatewayQueries.All)}.";

    public async Task<MetricSample> MeasureAsync(MetricSpec metric, MeasurementContext context, CancellationToken cancellationToken)
    {
        // The gateway's window starts at a once-a-second capture at least `window` seconds old, so one second is taken off:
        // a window never reaches back before the weight change (traffic at an earlier weight, or an earlier rollout's canary).
        var sinceWeight = (int)Math.Floor((context.Now - context.Since).TotalSeconds) - 1;
        var window = Math.Min(metric.WindowSeconds ?? int.MaxValue, Math.Min(sinceWeight, GatewayStatsReader.MaxWindowSeconds));
        if (window < 1)
        {
            var empty = new TrackSample(0, 0, null);
            return new MetricSample(context.Since, context.Now, empty, empty, empty);
        }

        var stats = await reader.ReadAsync(context.Agent, window, cancellationToken);
        var bounds = stats.LatencyBucketBoundsMs;
        var agentBuckets = stats.Stable.LatencyBucketCounts.Zip(stats.Canary.LatencyBucketCounts, (a, b) => a + b).ToArray();
        TrackSample Track(string version, long requests, long failures, long[] buckets) =>
            new(requests, failures, Value(metric.Query, requests, failures, buckets, bounds), buckets, version);
        return new MetricSample(
            stats.From,
            stats.To,
            Track(stats.Stable.Version, stats.Stable.Requests, stats.Stable.Failures, stats.Stable.LatencyBucketCounts),
            Track(stats.Canary.Version, stats.Canary.Requests, stats.Canary.Failures, stats.Canary.LatencyBucketCounts),
            Track("*", stats.Stable.Requests + stats.Canary.Requests, stats.Stable.Failures + stats.Canary.Failures, agentBuckets),
            bounds,
            stats.Replicas.Count);
    }

    private static double? Value(string query, long requests, long failures, long[] buckets, IReadOnlyList<double> bounds) => query switch
    {
        GatewayQueries.ErrorRate => requests == 0 ? null : (double)failures / requests,
        GatewayQueries.Errors => failures,
        GatewayQueries.Requests => requests,
        GatewayQueries.LatencyP50 => LatencyHistogram.Percentile(buckets, bounds, 0.50),
        GatewayQueries.LatencyP95 => LatencyHistogram.Percentile(buckets, bounds, 0.95),
        _ => LatencyHistogram.Percentile(buckets, bounds, 0.99),
    };
}
