using RolloutApi.Model;

namespace RolloutApi.Rollouts.Analysis;

/// <summary>The default provider until metric-based analysis is configured: records <see cref="AnalysisVerdict.Pass"/>.</summary>
internal sealed class PassingAnalysisProvider : IAnalysisProvider
{
    public const string ProviderName = "pass";

    public string Name => ProviderName;

    public Task<AnalysisResult> AnalyzeAsync(AnalysisRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(new AnalysisResult(AnalysisVerdict.Pass, "No metric checks configured; recorded Pass."));
}
