using RolloutApi.Model;
using RolloutApi.Rollouts.Analysis;
using RolloutApi.Rollouts.Analysis.Judges;
using Xunit.Abstractions;
using RolloutApi.Rollouts.Analysis.Sources;

namespace RolloutApi.Tests.Analysis;

/// <summary>
/// The sequential judge under continuous monitoring, simulated with a seeded random source: identical tracks (A/A) must
/// almost never fail (rate ≤ α however often it is checked), and a canary with a known regression must be caught.
/// </summary>
public sealed class SequentialJudgeSimulationTests(ITestOutputHelper output)
{
    private const double Alpha = 0.01;
    private const int Rollouts = 1_000;
    private const int RequestsPerRollout = 4_000;
    private const int CheckEvery = 20;     // 200 checks per rollout: "monitored continuously"
    private const double CanaryShare = 0.1;

    private static readonly double[] Bounds = [1, 2, 3, 4, 5, 6, 8, 10, 12.5, 15, 20, 25, 30, 40, 50, 60, 80, 100, 125, 150, 200, 250, 300, 400, 500];

    private static readonly AnalysisTemplate Template = new([], MinSamples: 50);

    [Fact]
    public void AA_error_counts_false_abort_rate_stays_below_alpha_under_continuous_checks()
    {
        var metric = new MetricSpec("errors", "gateway", GatewayQueries.Errors, SequentialJudge.JudgeName, Alpha: Alpha);
        var random = new Random(20261130);
        var falseAborts = 0;
        for (var r = 0; r < Rollouts; r++)
        {
            var errorRate = 0.005 + (random.NextDouble() * 0.05); // the same on both tracks, different per rollout
            if (RunUntilFail(random, metric, () => random.NextDouble() < errorRate, () => random.NextDouble() < errorRate, latency: false) is not null)
            {
                falseAborts++;
            }
        }

        output.WriteLine($"A/A errors: {falseAborts} false aborts in {Rollouts} rollouts ({(double)falseAborts / Rollouts:P2}), α = {Alpha:P0}, {RequestsPerRollout / CheckEvery} checks each");
        Assert.True(falseAborts <= Rollouts * Alpha, $"{falseAborts} false aborts in {Rollouts} A/A rollouts exceed α = {Alpha}.");
    }

    [Fact]
    public void AA_latency_false_abort_rate_stays_below_alpha_under_continuous_checks()
    {
        var metric = new MetricSpec("latency", "gateway", GatewayQueries.Latency, SequentialJudge.JudgeName, Alpha: Alpha);
        var random = new Random(4242);
        var falseAborts = 0;
        for (var r = 0; r < Rollouts; r++)
        {
            var median = 5 + (random.NextDouble() * 30);
            if (RunUntilFail(random, metric, () => LogNormal(random, median), () => LogNormal(random, median), latency: true) is not null)
            {
                falseAborts++;
            }
        }

        output.WriteLine($"A/A latency: {falseAborts} false aborts in {Rollouts} rollouts ({(double)falseAborts / Rollouts:P2}), α = {Alpha:P0}");
        Assert.True(falseAborts <= Rollouts * Alpha, $"{falseAborts} false aborts in {Rollouts} A/A rollouts exceed α = {Alpha}.");
    }

    [Theory]
    [InlineData(0.02, 0.20)]
    [InlineData(0.02, 0.10)]
    [InlineData(0.00, 0.20)]
    public void AB_error_regression_is_detected_and_the_detection_time_reported(double stableRate, double canaryRate)
    {
        var metric = new MetricSpec("errors", "gateway", GatewayQueries.Errors, SequentialJudge.JudgeName, Alpha: Alpha);
        var random = new Random(7);
        var detections = new List<int>();
        for (var r = 0; r < 200; r++)
        {
            if (RunUntilFail(random, metric, () => random.NextDouble() < stableRate, () => random.NextDouble() < canaryRate, latency: false) is { } at)
            {
                detections.Add(at);
            }
        }

        detections.Sort();
        var median = detections.Count == 0 ? -1 : detections[detections.Count / 2];
        output.WriteLine($"A/B errors {stableRate:P0} → {canaryRate:P0} at {CanaryShare:P0} weight: detected in {detections.Count}/200; " +
            $"median {median} requests ({median * CanaryShare:0} canary), at 200 req/s = {median / 200.0:0.#} s; p90 {Percentile(detections, 0.9)} requests");
        Assert.True(detections.Count >= 190, $"Only {detections.Count}/200 regressions detected.");
    }

    [Fact]
    public void AB_latency_regression_of_200_ms_is_detected_and_the_detection_time_reported()
    {
        var metric = new MetricSpec("latency", "gateway", GatewayQueries.Latency, SequentialJudge.JudgeName, Alpha: Alpha, Tolerance: 0.2, Threshold: 50);
        var random = new Random(99);
        var detections = new List<int>();
        for (var r = 0; r < 200; r++)
        {
            if (RunUntilFail(random, metric, () => LogNormal(random, 10), () => LogNormal(random, 10) + 200, latency: true) is { } at)
            {
                detections.Add(at);
            }
        }

        detections.Sort();
        output.WriteLine($"A/B latency +200 ms: detected in {detections.Count}/200; median {detections[detections.Count / 2]} requests " +
            $"(at 200 req/s and 10 % weight: {detections[detections.Count / 2] / 200.0:0.#} s)");
        Assert.Equal(200, detections.Count);
    }

    /// <summary>Requests one by one, judged every <see cref="CheckEvery"/>; the request count at the first Fail, or null.</summary>
    private static int? RunUntilFail<T>(Random random, MetricSpec metric, Func<T> stable, Func<T> canary, bool latency)
    {
        var size = latency ? Bounds.Length + 1 : 2;
        var c = new long[size];
        var s = new long[size];
        for (var n = 1; n <= RequestsPerRollout; n++)
        {
            var toCanary = random.NextDouble() < CanaryShare;
            var value = toCanary ? canary() : stable();
            var bucket = value switch
            {
                bool failed => failed ? 1 : 0,
                double ms => Bucket(ms),
                _ => throw new InvalidOperationException(),
            };
            (toCanary ? c : s)[bucket]++;
            if (n % CheckEvery == 0 && new SequentialJudge().Judge(metric, Sample(c, s, latency), Template).Verdict == AnalysisVerdict.Fail)
            {
                return n;
            }
        }

        return null;
    }

    private static MetricSample Sample(long[] canary, long[] stable, bool latency)
    {
        TrackSample Track(long[] counts) => latency
            ? new TrackSample(counts.Sum(), 0, null, [.. counts])
            : new TrackSample(counts[0] + counts[1], counts[1], counts[1]);
        var now = DateTimeOffset.UnixEpoch;
        return new MetricSample(now, now, Track(stable), Track(canary), Track(stable), latency ? Bounds : null);
    }

    private static int Bucket(double ms)
    {
        var i = Array.FindIndex(Bounds, b => ms <= b);
        return i < 0 ? Bounds.Length : i;
    }

    private static double LogNormal(Random random, double median)
    {
        // Box-Muller; σ = 0.5 gives a realistic tail (p99 ≈ 3.2 × median).
        var z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        return median * Math.Exp(0.5 * z);
    }

    private static int Percentile(List<int> sorted, double q) => sorted.Count == 0 ? -1 : sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];
}
