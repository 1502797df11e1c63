using RolloutApi.Rollouts.Analysis.Judges;
using RolloutApi.Rollouts.Analysis.Sources;

namespace RolloutApi.Rollouts.Analysis;

/// <summary>Templates every agent has without saving any (version 0). Saving one under the same name overrides it.</summary>
public static class BuiltInTemplates
{
    public const string DefaultName = "default";

    /// <summary>
    /// The use case's alert as a background template: failed items up 5 % in 5 minutes, judged two ways — the canary against
    /// stable (difference of failed-request ratios &gt; 0.05) and the whole agent (failed ratio over both tracks &gt; 0.05) —
    /// plus the anytime-valid sequential tests (errors and latency, α = 1 %) that catch a bad canary within seconds, long
    /// before a 5-minute window fills. Measured every 2 s from the gateways; failed = 5xx or transport error. One failed
    /// measurement aborts; 30 inconclusive ones in a row (a minute without enough traffic) pause for a human.
    /// </summary>
    public static AnalysisTemplate Default { get; } = new(
        Metrics:
        [
            new("failed-ratio-vs-stable", GatewayMetricSource.SourceName, GatewayQueries.ErrorRate, ThresholdJudge.JudgeName,
                Comparison: Comparison.Difference, Direction: Direction.Increase, Tolerance: 0.05, WindowSeconds: 300),
            new("failed-ratio-agent", GatewayMetricSource.SourceName, GatewayQueries.ErrorRate, ThresholdJudge.JudgeName,
                Scope: MetricScope.Agent, Comparison: Comparison.Absolute, Direction: Direction.Increase, Threshold: 0.05, WindowSeconds: 300),
            new("errors-sequential", GatewayMetricSource.SourceName, GatewayQueries.Errors, SequentialJudge.JudgeName, Alpha: 0.01),
            new("latency-sequential", GatewayMetricSource.SourceName, GatewayQueries.Latency, SequentialJudge.JudgeName,
                Alpha: 0.01, Tolerance: 0.2, Threshold: 50),
        ],
        IntervalSeconds: 2,
        Count: 1,
        FailureLimit: 0,
        InconclusiveLimit: 30,
        MinSamples: 50);

    public static IReadOnlyDictionary<string, AnalysisTemplate> All { get; } =
        new Dictionary<string, AnalysisTemplate>(StringComparer.Ordinal) { [DefaultName] = Default };
}
