using System.Text.Json.Serialization;
using RolloutApi.Drivers;
using RolloutApi.Model;

namespace RolloutApi.Rollouts.Analysis;

/// <summary>What an analysis is asked to judge: the canary against the stable track, at the rollout's current weight.</summary>
/// <param name="Agent">The agent.</param>
/// <param name="RolloutId">The rollout.</param>
/// <param name="StepIndex">The analysis step's index.</param>
/// <param name="Stable">The stable track's revision.</param>
/// <param name="Canary">The canary track's revision.</param>
/// <param name="Weight">The canary's current weight in basis points.</param>
/// <param name="Since">When the current weight took effect: the start of the window worth looking at.</param>
/// <param name="Now">The engine's clock.</param>
public sealed record AnalysisRequest(
    string Agent, long RolloutId, int StepIndex, RevisionSpec Stable, RevisionSpec Canary, int Weight, DateTimeOffset Since, DateTimeOffset Now)
{
    /// <summary>The analysis template the step names (the <c>template</c> provider), if any.</summary>
    public string? Template { get; init; }

    /// <summary>The rollout's version: a step attempt's identity (a resume bumps it, so a held analysis runs again).</summary>
    public long RolloutVersion { get; init; }
}

/// <summary>A verdict and one line on why.</summary>
public sealed record AnalysisResult(AnalysisVerdict Verdict, string Summary)
{
    /// <summary>Set while a run is still measuring: no verdict yet, ask again at this time (the verdict is ignored).</summary>
    public DateTimeOffset? RecheckAt { get; init; }
}

/// <summary>
/// Judges a canary. Registered with <c>TryAddEnumerable</c> (see <c>AddAnalysisProvider</c>) and chosen by name: an
/// <c>analysis</c> step's <c>provider</c>, else <c>Analysis:Provider</c>. Called outside any transaction, possibly more than once
/// for the same step (after a crash), so it must be free of side effects on rollout state. Throwing means "could not ask":
/// the engine logs it and asks again later; return <see cref="AnalysisVerdict.Inconclusive"/> for "asked, but too little data".
/// </summary>
public interface IAnalysisProvider
{
    string Name { get; }

    Task<AnalysisResult> AnalyzeAsync(AnalysisRequest request, CancellationToken cancellationToken);
}
