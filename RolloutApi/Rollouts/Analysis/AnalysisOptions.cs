using System.ComponentModel.DataAnnotations;
using AgentAspire.Contracts;
using RolloutApi.Hosting;

namespace RolloutApi.Rollouts.Analysis;

/// <summary>Analysis settings (section <c>Analysis</c>).</summary>
public sealed class AnalysisOptions
{
    public const string SectionName = ConfigKeys.Analysis.Section;

    /// <summary>The provider an <c>analysis</c> step uses when it names none.</summary>
    [Required]
    public string Provider { get; set; } = PassingAnalysisProvider.ProviderName;

    /// <summary>How long one analysis may take before the engine gives up on it and asks again later.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}
