using AgentAspire.Contracts;
using MathNet.Numerics;
using RolloutApi.Model;
using RolloutApi.Rollouts.Analysis.Sources;

namespace RolloutApi.Rollouts.Analysis.Judges;

/// <summary>
/// An anytime-valid sequential test of canary against stable (Lindon, Sanden &amp; Shirikian, KDD 2022; Lindon &amp; Malek,
/// NeurIPS 2022), safe to check after every request: the chance that it ever fails a canary as good as stable stays below
/// <see cref="MetricSpec.Alpha"/> however often it is asked.
/// <para>
/// Each observation (a request) falls into a bucket: [ok, error] for a count metric, the latency buckets for <c>latency</c>.
/// Under the null hypothesis the bucket tells nothing about the track, so within every bucket a request is the canary's
/// with the same probability ρ. The e-value is a Bayes factor: in the numerator each bucket gets its own canary share θₖ
/// under a uniform prior (the Dirichlet-multinomial mixture, one beta-binomial per bucket), in the denominator the
/// maximum-likelihood ρ̂ of the null (the canary's overall share). Dividing by the null's maximum instead of its true
/// likelihood only makes the statistic smaller, so Ville's inequality still bounds P(ever ≥ 1/α) by α (universal inference).
/// </para>
/// <para>
/// The test is two-sided; the judge fails the canary only when it also looks worse (a higher error rate, or slower:
/// AUC &gt; ½ or a higher p99), which can only lower the false-abort rate. It never passes early: Pass needs
/// <see cref="AnalysisTemplate.MinSamples"/> requests on each track; until then Inconclusive.
/// </para>
/// </summary>
public sealed class SequentialJudge : IAnalysisJudge
{
    public const string JudgeName = "sequential";
    public const double DefaultAlpha = 0.01;

    public string Name => JudgeName;

    public MetricResult Judge(MetricSpec metric, MetricSample sample, AnalysisTemplate template)
    {
        var latency = GatewayQueries.IsLatency(metric.Query);
        var alpha = metric.Alpha ?? DefaultAlpha;
        var canary = Histograms.CountsOf(sample.Canary, latency);
        var stable = Histograms.CountsOf(sample.Stable, latency);
        if (canary is null || stable is null || canary.Length != stable.Length)
        {
            return Result(metric, sample, AnalysisVerdict.Inconclusive, "The source gave no counts to test (the sequential judge needs request/error counts or latency buckets).");
        }

        var logE = LogEValue(canary, stable);
        var threshold = Math.Log(1 / alpha);
        long nc = LatencyHistogram.Total(canary), ns = LatencyHistogram.Total(stable);
        string detail;
        bool worse;
        if (latency)
        {
            // Practical significance on top of statistical: the mean must be worse by the tolerance (ratio) and the
            // threshold (ms), with minSamples canary requests, so a fresh process' few cold requests do not abort a rollout.
            var values = Histograms.Midpoints(sample.BucketBoundsMs, canary.Length);
            double meanC = Histograms.Mean(canary, values), meanS = Histograms.Mean(stable, values);
            var auc = Histograms.Auc(canary, stable);
            worse = nc >= template.MinSamples && Worse(meanC - meanS, meanS, metric)
                && (metric.Direction == Direction.Decrease ? auc < 0.5 : auc > 0.5 || metric.Direction == Direction.Either);
            detail = $"canary {nc} requests mean {meanC:0.#} ms, stable {ns} mean {meanS:0.#} ms, AUC {auc:0.###}";
        }
        else
        {
            double rateC = ErrorRate(canary), rateS = ErrorRate(stable);
            worse = Worse(rateC - rateS, rateS, metric);
            detail = $"canary {canary[1]}/{nc} errors ({rateC:P2}), stable {stable[1]}/{ns} ({rateS:P2})";
        }

        var evidence = $"e-value {Math.Exp(Math.Min(logE, 700)):G3} vs 1/α = {1 / alpha:G3}";
        if (logE >= threshold && worse)
        {
            return Result(metric, sample, AnalysisVerdict.Fail, $"The canary is worse ({detail}; {evidence}).", logE);
        }

        if (nc < template.MinSamples || ns < template.MinSamples)
        {
            return Result(metric, sample, AnalysisVerdict.Inconclusive,
                $"Too few samples to pass: {nc} canary and {ns} stable requests, {template.MinSamples} needed on each ({detail}; {evidence}).", logE);
        }

        return Result(metric, sample, AnalysisVerdict.Pass, $"No regression detected ({detail}; {evidence}).", logE);
    }

    /// <summary>Worse in the metric's bad direction, by more than the threshold (absolute) and the tolerance (relative).</summary>
    private static bool Worse(double delta, double baseline, MetricSpec metric)
    {
        var margin = Math.Max(metric.Threshold ?? 0, (metric.Tolerance ?? 0) * Math.Abs(baseline));
        return metric.Direction switch
        {
            Direction.Increase => delta > margin,
            Direction.Decrease => delta < -margin,
            _ => Math.Abs(delta) > margin,
        };
    }

    /// <summary>The log e-value for "the canary's share is the same in every bucket" (see the class remarks).</summary>
    public static double LogEValue(ReadOnlySpan<long> canary, ReadOnlySpan<long> stable)
    {
        long nc = LatencyHistogram.Total(canary), ns = LatencyHistogram.Total(stable);
        if (nc == 0 || ns == 0)
        {
            return 0;
        }

        double rho = (double)nc / (nc + ns);
        double log = 0;
        for (var k = 0; k < canary.Length; k++)
        {
            double x = canary[k], n = canary[k] + stable[k];
            if (n == 0)
            {
                continue;
            }

            // Beta(1,1) mixture: ∫ θ^x (1-θ)^(n-x) dθ = B(x+1, n-x+1).
            log += SpecialFunctions.BetaLn(x + 1, n - x + 1);
        }

        // Minus the null's maximum log-likelihood, ρ̂ = the canary's overall share.
        log -= (nc * Math.Log(rho)) + (ns * Math.Log(1 - rho));
        return log;
    }

    private static double ErrorRate(long[] counts) => counts[0] + counts[1] == 0 ? 0 : (double)counts[1] / (counts[0] + counts[1]);

    private static MetricResult Result(MetricSpec metric, MetricSample sample, AnalysisVerdict verdict, string reason, double? statistic = null) =>
        new(metric.Name, metric.Source, JudgeName, verdict, reason, statistic is { } s ? Math.Round(s, 4) : null, sample);
}
