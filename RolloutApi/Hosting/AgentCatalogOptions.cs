using AgentAspire.Contracts;

namespace RolloutApi.Hosting;

/// <summary>The agents RolloutApi manages (section <c>Agents</c>, one subsection per agent name).</summary>
public sealed class AgentCatalogOptions
{
    public Dictionary<string, AgentOptions> Agents { get; } = new(StringComparer.Ordinal);
}

/// <summary>One agent: where its two tracks run and the versions they start with.</summary>
public sealed class AgentOptions
{
    public TrackOptions Stable { get; set; } = new();

    public TrackOptions Canary { get; set; } = new();

    /// <summary>The container image repository (without tag); revisions add the tag.</summary>
    public string? Image { get; set; }

    /// <summary>
    /// The flags the agent ships: a feature_management document (<c>{"feature_flags": [...]}</c>) that becomes the agent's
    /// flag definitions the first time RolloutApi sees it, so that its flags (and their kill switches) exist from the start.
    /// </summary>
    public string? Flags { get; set; }
}

/// <summary>A track's service-discovery address (e.g. <c>http://agent-stable</c>) and version label.</summary>
public sealed class TrackOptions
{
    public string Destination { get; set; } = "";

    public string Version { get; set; } = "";

    /// <summary>
    /// The image tag the track runs when RolloutApi first starts (seeds revision 1 on the stable track); defaults to
    /// <see cref="Version"/>. The Kubernetes publisher sets it to the published image tag, so that the first reconcile
    /// finds the stable Deployment already on revision 1 instead of patching it to a tag that may not exist.
    /// </summary>
    public string? ImageTag { get; set; }

    internal string SeedImageTag => string.IsNullOrWhiteSpace(ImageTag) ? Version : ImageTag;
}
