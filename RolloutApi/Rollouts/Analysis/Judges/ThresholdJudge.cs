using RolloutApi.Model;

namespace RolloutApi.Rollouts.Analysis.Judges;

/// <summary>
/// Compares the query's value: the canary with stable as a <c>ratio</c> (canary ≤ stable × (1 + tolerance) for
/// <c>increase</c>) or a <c>difference</c> (canary − stable ≤ tolerance), or one value against an <c>absolute</c> threshold
/// (the canary's, or the whole agent's with <c>scope: agent</c>). Needs <see cref="AnalysisTemplate.MinSamples"/> requests on
/// the tracks it looks at when the source counts requests; no value = Inconclusive.
/// </summary>
public sealed class ThresholdJudge : IAnalysisJudge
{
    public const string JudgeName = "threshold";

    public string Name => JudgeName;

    public MetricResult Judge(MetricSpec metric, MetricSample sample, AnalysisTemplate template)
    {
        var tolerance = metric.Tolerance ?? 0;
        if (metric.Comparison == Comparison.Absolute)
        {
            var subject = metric.Scope == MetricScope.Agent ? sample.Agent : sample.Canary;
            var who = metric.Scope == MetricScope.Agent ? "agent" : "canary";
            if (TooFew(subject, template) is { } few)
            {
                return Result(metric, sample, AnalysisVerdict.Inconclusive, $"Too few samples ({who}: {few}).");
            }

            if (subject.Value is not { } value || double.IsNaN(value))
            {
                return Result(metric, sample, AnalysisVerdict.Inconclusive, $"No value for the {who}.");
            }

            var threshold = metric.Threshold!.Value;
            var bad = Bad(value - threshold, 0, metric.Direction);
            return Result(metric, sample, bad ? AnalysisVerdict.Fail : AnalysisVerdict.Pass,
                $"{who} {value:G4} {(bad ? "is beyond" : "is within")} the threshold {threshold:G4} ({metric.Direction.ToString().ToLowerInvariant()} is bad).", value);
        }

        if (TooFew(sample.Canary, template) is { } c || TooFew(sample.Stable, template) is { } s2)
        {
            return Result(metric, sample, AnalysisVerdict.Inconclusive,
                $"Too few samples: canary {sample.Canary.Requests}, stable {sample.Stable.Requests}, {template.MinSamples} needed on each.");
        }

        if (sample.Canary.Value is not { } canary || sample.Stable.Value is not { } stable || double.IsNaN(canary) || double.IsNaN(stable))
        {
            return Result(metric, sample, AnalysisVerdict.Inconclusive, "No value for one of the tracks.");
        }

        if (metric.Comparison == Comparison.Ratio)
        {
            if (stable == 0)
            {
                return canary == 0
                    ? Result(metric, sample, AnalysisVerdict.Pass, "Both tracks are 0.", 1)
                    : Result(metric, sample, AnalysisVerdict.Inconclusive, $"Stable is 0 and the canary {canary:G4}: no ratio (use a difference).");
            }

            var ratio = canary / stable;
            var badRatio = Bad(ratio - 1, tolerance, metric.Direction);
            return Result(metric, sample, badRatio ? AnalysisVerdict.Fail : AnalysisVerdict.Pass,
                $"canary/stable = {canary:G4}/{stable:G4} = {ratio:0.###}, tolerance {tolerance:G4} ({(badRatio ? "beyond" : "within")}).", ratio);
        }

        var difference = canary - stable;
        var badDifference = Bad(difference, tolerance, metric.Direction);
        return Result(metric, sample, badDifference ? AnalysisVerdict.Fail : AnalysisVerdict.Pass,
            $"canary − stable = {canary:G4} − {stable:G4} = {difference:G4}, tolerance {tolerance:G4} ({(badDifference ? "beyond" : "within")}).", difference);
    }

    private static bool Bad(double delta, double tolerance, Direction direction) => direction switch
    {
        Direction.Increase => delta > tolerance,
        Direction.Decrease => delta < -tolerance,
        _ => Math.Abs(delta) > tolerance,
    };

    private static string? TooFew(TrackSample track, AnalysisTemplate template) =>
        track.Requests != TrackSample.Unknown && track.Requests < template.MinSamples
            ? $"{track.Requests} requests, {template.MinSamples} needed"
            : null;

    private static MetricResult Result(MetricSpec metric, MetricSample sample, AnalysisVerdict verdict, string reason, double? statistic = null) =>
        new(metric.Name, metric.Source, JudgeName, verdict, reason, statistic is { } s && double.IsFinite(s) ? Math.Round(s, 6) : null, sample);
}
