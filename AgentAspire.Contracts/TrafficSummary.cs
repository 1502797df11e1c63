using System.Text.Json.Serialization;

namespace AgentAspire.Contracts;

/// <summary>
/// <c>GET /gateway/stats?window=N</c>: per track, what one gateway replica saw over the last N seconds — the input of a
/// canary analysis (compare the canary's error rate and latency with stable's). Written by the gateway, read (and merged
/// over every replica) by RolloutApi.
/// </summary>
public sealed record TrafficSummary(
    [property: JsonPropertyName("agent")] string Agent,
    [property: JsonPropertyName("windowSeconds")] int WindowSeconds,
    [property: JsonPropertyName("from")] DateTimeOffset From,
    [property: JsonPropertyName("to")] DateTimeOffset To,
    [property: JsonPropertyName("revision")] long Revision,
    [property: JsonPropertyName("weight")] int Weight,
    [property: JsonPropertyName("stable")] TrackTraffic Stable,
    [property: JsonPropertyName("canary")] TrackTraffic Canary,
    [property: JsonPropertyName("latencyBucketBoundsMs")] IReadOnlyList<double> LatencyBucketBoundsMs)
{
    /// <summary>The gateway's path.</summary>
    public const string Path = "/gateway/stats";

    /// <summary>The query parameter naming the window in seconds.</summary>
    public const string WindowParameter = "window";

    /// <summary>Responses not answered by the track the gateway chose, as the agents' own identity says (since start).</summary>
    [JsonPropertyName("identityMismatches")]
    public IdentityMismatches? IdentityMismatches { get; init; }
}

/// <summary>
/// One track's traffic in a window. <c>errorRate</c> is (5xx + transport) / requests; 4xx are the clients'.
/// <see cref="LatencyBucketCounts"/> go with <see cref="TrafficSummary.LatencyBucketBoundsMs"/> (the last count is
/// everything slower); fixed bounds, so that a reader can add the counts of every replica bucket by bucket
/// (percentiles cannot be averaged).
/// </summary>
public sealed record TrackTraffic(
    [property: JsonPropertyName("track")] string Track,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("requests")] long Requests,
    [property: JsonPropertyName("errors")] ErrorCounts Errors,
    [property: JsonPropertyName("errorRate")] double ErrorRate,
    [property: JsonPropertyName("latencyMs")] LatencySummary LatencyMs,
    [property: JsonPropertyName("latencyBucketCounts")] IReadOnlyList<long> LatencyBucketCounts)
{
    /// <summary>Errors that count against a track: 5xx and transport failures (4xx are the clients').</summary>
    [JsonIgnore]
    public long Failures => Errors.ServerErrors + Errors.Transport;
}

/// <summary>Errors by status class.</summary>
public sealed record ErrorCounts(
    [property: JsonPropertyName(ErrorCounts.ClientErrorName)] long ClientErrors,
    [property: JsonPropertyName(ErrorCounts.ServerErrorName)] long ServerErrors,
    [property: JsonPropertyName(ErrorCounts.TransportName)] long Transport)
{
    public const string ClientErrorName = "4xx";
    public const string ServerErrorName = "5xx";
    public const string TransportName = "transport";
}

/// <summary>Latency percentiles in milliseconds, estimated from fixed buckets; null when the window saw no request.</summary>
public sealed record LatencySummary(
    [property: JsonPropertyName("p50")] double? P50,
    [property: JsonPropertyName("p95")] double? P95,
    [property: JsonPropertyName("p99")] double? P99);

/// <summary>The gateway's identity check: responses the agents' own identity says another track answered; cumulative since start.</summary>
public sealed record IdentityMismatches(
    [property: JsonPropertyName("total")] long Total,
    [property: JsonPropertyName("missing")] long Missing,
    [property: JsonPropertyName("byTrack")] IReadOnlyList<IdentityMismatchCount> ByTrack,
    [property: JsonPropertyName("lastAt")] DateTimeOffset? LastAt,
    [property: JsonPropertyName("lastExpected")] string? LastExpected,
    [property: JsonPropertyName("lastActual")] string? LastActual,
    [property: JsonPropertyName("lastDetail")] string? LastDetail);

/// <summary>Responses sent to <c>expected</c> that <c>actual</c> answered (a track, <c>missing</c> or <c>other</c>).</summary>
public sealed record IdentityMismatchCount(
    [property: JsonPropertyName("expected")] string Expected,
    [property: JsonPropertyName("actual")] string Actual,
    [property: JsonPropertyName("count")] long Count);
