using System.Text.Json.Serialization;

namespace Gateway.Stats;

/// <summary>
/// <c>GET /gateway/stats?window=N</c>: per track, what the gateway saw over the last N seconds — the input of a
/// canary analysis (compare the canary's error rate and latency with stable's).
/// </summary>
public sealed record TrafficSummary(
    [property: JsonPropertyName("agent")] string Agent,
    [property: JsonPropertyName("windowSeconds")] int WindowSeconds,
    [property: JsonPropertyName("from")] DateTimeOffset From,
    [property: JsonPropertyName("to")] DateTimeOffset To,
    [property: JsonPropertyName("revision")] long Revision,
    [property: JsonPropertyName("weight")] int Weight,
    [property: JsonPropertyName("stable")] TrackTraffic Stable,
    [property: JsonPropertyName("canary")] TrackTraffic Canary)
{
    /// <summary>
    /// The upper bounds (ms) of <see cref="TrackTraffic.LatencyBucketCounts"/>; the last count is everything slower. Fixed, so
    /// that a reader can add the counts of every gateway replica bucket by bucket (percentiles cannot be averaged).
    /// </summary>
    [JsonPropertyName("latencyBucketBoundsMs")]
    public IReadOnlyList<double> LatencyBucketBoundsMs => LatencyBuckets.UpperBoundsMs;

    /// <summary>Responses not answered by the track the gateway chose, as the agents' own identity says (since start).</summary>
    [JsonPropertyName("identityMismatches")]
    public Identity.IdentityMismatches? IdentityMismatches { get; init; }
}

/// <summary>One track's traffic in a window. <c>errorRate</c> is (5xx + transport) / requests; 4xx are the clients'.</summary>
public sealed record TrackTraffic(
    [property: JsonPropertyName("track")] string Track,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("requests")] long Requests,
    [property: JsonPropertyName("errors")] ErrorCounts Errors,
    [property: JsonPropertyName("errorRate")] double ErrorRate,
    [property: JsonPropertyName("latencyMs")] LatencySummary LatencyMs,
    [property: JsonPropertyName("latencyBucketCounts")] IReadOnlyList<long> LatencyBucketCounts);

/// <summary>Errors by status class.</summary>
public sealed record ErrorCounts(
    [property: JsonPropertyName(StatusClasses.ClientErrorName)] long ClientErrors,
    [property: JsonPropertyName(StatusClasses.ServerErrorName)] long ServerErrors,
    [property: JsonPropertyName(StatusClasses.TransportName)] long Transport);

/// <summary>Latency percentiles in milliseconds, estimated from fixed buckets; null when the window saw no request.</summary>
public sealed record LatencySummary(
    [property: JsonPropertyName("p50")] double? P50,
    [property: JsonPropertyName("p95")] double? P95,
    [property: JsonPropertyName("p99")] double? P99);
