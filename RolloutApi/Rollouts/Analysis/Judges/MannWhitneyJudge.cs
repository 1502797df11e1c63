using AgentAspire.Contracts;
using MathNet.Numerics.Distributions;
using RolloutApi.Model;
using RolloutApi.Rollouts.Analysis.Sources;

namespace RolloutApi.Rollouts.Analysis.Judges;

/// <summary>
/// Kayenta's classifier: a fixed-window Mann-Whitney U test of canary against stable, on the window's latency buckets (or
/// [ok, error] counts), with Kayenta's knobs: <see cref="MetricSpec.Confidence"/> (default 0.98) and an effect-size tolerance
/// on the ratio of means (<see cref="MetricSpec.EffectSize"/>, default 0.1 = 10 %). Significant and beyond the tolerance in
/// the bad <see cref="MetricSpec.Direction"/> = Fail. Valid when looked at once per window; for continuous checks use
/// <c>sequential</c>. The template's pass and marginal scores (Kayenta scoring) combine the metrics.
/// </summary>
public sealed class MannWhitneyJudge : IAnalysisJudge
{
    public const string JudgeName = "mann-whitney";
    public const double DefaultConfidence = 0.98;
    public const double DefaultEffectSize = 0.1;

    public string Name => JudgeName;

    public MetricResult Judge(MetricSpec metric, MetricSample sample, AnalysisTemplate template)
    {
        var latency = GatewayQueries.IsLatency(metric.Query);
        var canary = Histograms.CountsOf(sample.Canary, latency);
        var stable = Histograms.CountsOf(sample.Stable, latency);
        if (canary is null || stable is null || canary.Length != stable.Length)
        {
            return Result(metric, sample, AnalysisVerdict.Inconclusive, "The source gave no counts to compare (Mann-Whitney needs latency buckets or request/error counts).");
        }

        long nc = LatencyHistogram.Total(canary), ns = LatencyHistogram.Total(stable);
        if (nc < template.MinSamples || ns < template.MinSamples || nc == 0 || ns == 0)
        {
            return Result(metric, sample, AnalysisVerdict.Inconclusive, $"Too few samples: {nc} canary and {ns} stable, {template.MinSamples} needed on each.");
        }

        var (z, p) = Test(canary, stable);
        var values = Histograms.Midpoints(latency ? sample.BucketBoundsMs : null, canary.Length);
        double meanC = Histograms.Mean(canary, values), meanS = Histograms.Mean(stable, values);
        var ratio = meanS > 0 ? meanC / meanS : meanC > 0 ? double.PositiveInfinity : 1;
        var confidence = metric.Confidence ?? DefaultConfidence;
        var effect = metric.EffectSize ?? DefaultEffectSize;
        var significant = p < 1 - confidence;
        var beyond = metric.Direction switch
        {
            Direction.Increase => ratio > 1 + effect,
            Direction.Decrease => ratio < 1 - effect,
            _ => ratio > 1 + effect || ratio < 1 - effect,
        };
        var detail = $"mean ratio {ratio:0.###} (canary {meanC:0.###}, stable {meanS:0.###}), z {z:0.##}, p {p:0.####} vs {1 - confidence:0.####}";
        return significant && beyond
            ? Result(metric, sample, AnalysisVerdict.Fail, $"The canary differs beyond the tolerance ({detail}).", p)
            : Result(metric, sample, AnalysisVerdict.Pass, $"Within tolerance or not significant ({detail}).", p);
    }

    /// <summary>The normal approximation of U with the tie correction; returns z and the two-sided p-value.</summary>
    public static (double Z, double P) Test(ReadOnlySpan<long> canary, ReadOnlySpan<long> stable)
    {
        double nc = LatencyHistogram.Total(canary), ns = LatencyHistogram.Total(stable), n = nc + ns;
        var u = Histograms.Auc(canary, stable) * nc * ns;
        double ties = 0;
        for (var i = 0; i < canary.Length; i++)
        {
            double t = canary[i] + stable[i];
            ties += (t * t * t) - t;
        }

        var variance = nc * ns / 12.0 * ((n + 1) - (ties / (n * (n - 1))));
        if (variance <= 0)
        {
            return (0, 1);
        }

        var z = (u - (nc * ns / 2)) / Math.Sqrt(variance);
        return (z, 2 * (1 - Normal.CDF(0, 1, Math.Abs(z))));
    }

    private static MetricResult Result(MetricSpec metric, MetricSample sample, AnalysisVerdict verdict, string reason, double? statistic = null) =>
        new(metric.Name, metric.Source, JudgeName, verdict, reason, statistic is { } s ? Math.Round(s, 6) : null, sample);
}
