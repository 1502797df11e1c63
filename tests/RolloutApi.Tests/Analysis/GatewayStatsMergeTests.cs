using AgentAspire.Contracts;
using RolloutApi.Gateways;

namespace RolloutApi.Tests.Analysis;

/// <summary>Replicas are merged by adding counts and buckets; the percentile comes from the merged buckets, never an average.</summary>
public sealed class GatewayStatsMergeTests
{
    private static readonly double[] Bounds = [10, 100, 1_000];

    [Fact]
    public void Counts_and_buckets_add_up_and_the_p99_is_computed_from_the_merged_histogram()
    {
        // Replica A: 990 fast canary requests; replica B: 10 slow ones. Averaging the replicas' p99s would say ~500 ms.
        var a = Replica(revision: 7, canary: Track("1.1.0", 990, 5, [990, 0, 0, 0]));
        var b = Replica(revision: 8, canary: Track("1.2.0", 10, 1, [0, 0, 10, 0]));

        var merged = GatewayStatsReader.Merge("agent-worker", [a, b])!;

        Assert.Equal(1_000, merged.Canary.Requests);
        Assert.Equal(6, merged.Canary.Failures);
        Assert.Equal([990L, 0, 10, 0], merged.Canary.LatencyBucketCounts);
        Assert.Equal("1.2.0", merged.Canary.Version); // the newest routing revision's label
        var p99 = LatencyHistogram.Percentile(merged.Canary.LatencyBucketCounts, Bounds, 0.99)!.Value;
        Assert.InRange(p99, 0, 10); // 99 % of all requests were under 10 ms
        Assert.Equal(2, merged.Replicas.Count);
    }

    [Fact]
    public void Replicas_with_different_buckets_are_refused_and_none_gives_null()
    {
        var a = Replica(1, Track("1.1.0", 1, 0, [1, 0, 0, 0]));
        var b = Replica(1, Track("1.1.0", 1, 0, [1, 0, 0, 0])) with { LatencyBucketBoundsMs = [5, 50, 500] };
        Assert.Throws<InvalidOperationException>(() => GatewayStatsReader.Merge("agent-worker", [a, b]));
        Assert.Null(GatewayStatsReader.Merge("agent-worker", []));
    }

    private static TrackTraffic Track(string version, long requests, long serverErrors, long[] buckets) =>
        new("canary", version, requests, new ErrorCounts(3, serverErrors, 0), 0, new LatencySummary(null, null, null), buckets);

    private static TrafficSummary Replica(long revision, TrackTraffic canary) => new(
        "agent-worker", 60, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(60), revision, 1_000,
        new TrackTraffic("stable", "1.0.0", 0, new ErrorCounts(0, 0, 0), 0, new LatencySummary(null, null, null), [0, 0, 0, 0]), canary, Bounds);
}
