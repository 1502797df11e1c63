using System.ComponentModel.DataAnnotations;
using AgentAspire.Contracts;

namespace AgentAspire.Agent.Identity;

/// <summary>Who this process is: which agent, on which track, at which version. Bound from the <c>Agent</c> section.</summary>
public sealed class AgentIdentityOptions
{
    public const string SectionName = ConfigKeys.Agent.Section;

    /// <summary>The agent's name, e.g. <c>agent-worker</c>.</summary>
    [Required]
    public string Name { get; set; } = ResourceNames.DefaultAgent;

    /// <summary><c>stable</c> or <c>canary</c>.</summary>
    [Required]
    [RegularExpression("^(stable|canary)$", ErrorMessage = "Agent:Track must be 'stable' or 'canary'.")]
    public string Track { get; set; } = Tracks.Stable;

    /// <summary>The version label this process runs, e.g. <c>1.1.0</c>.</summary>
    [Required]
    public string Version { get; set; } = "0.0.0";

    /// <summary>RolloutApi's revision number this process was started for, when it was started for one.</summary>
    [Range(1, int.MaxValue)]
    public int? Revision { get; set; }

    /// <summary>The stored build this process runs (its content hash); unset when it runs from the source tree.</summary>
    public string? Build { get; set; }
}
