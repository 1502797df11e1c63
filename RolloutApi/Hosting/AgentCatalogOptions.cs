using System.Text.RegularExpressions;
using AgentAspire.Contracts;
using Microsoft.Extensions.Options;
using RolloutApi.Rollouts;

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

/// <summary>Refuses at start a catalog the routing table could not represent.</summary>
internal sealed partial class AgentCatalogOptionsValidator : IValidateOptions<AgentCatalogOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentCatalogOptions options)
    {
        var failures = new List<string>();
        foreach (var (agent, settings) in options.Agents)
        {
            var prefix = ConfigKeys.Agents.Agent(agent);
            if (!RevisionRules.IsValidAgentName(agent))
            {
                failures.Add($"'{agent}' is not a valid agent name (lowercase letters, digits and '-', at most 63 characters).");
            }

            ValidateTrack(failures, $"{prefix}:Stable", settings.Stable);
            ValidateTrack(failures, $"{prefix}:Canary", settings.Canary);
            if (!RevisionRules.IsValidImageTag(settings.Stable.SeedImageTag, out var reason))
            {
                var key = string.IsNullOrWhiteSpace(settings.Stable.ImageTag) ? "Version" : "ImageTag";
                failures.Add($"{prefix}:Stable:{key} seeds revision 1's image tag: {reason}");
            }

            // The shipped flags are checked at start too, by ShippedFlagsSeeder: the check runs the flag library's
            // asynchronous parser, and options validation is synchronous.
            if (settings.Image is { Length: > 0 } image && !ImageRepository().IsMatch(image))
            {
                failures.Add($"{prefix}:Image '{image}' is not an image repository (no tag, no digest).");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateTrack(List<string> failures, string prefix, TrackOptions track)
    {
        if (!Uri.TryCreate(track.Destination, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            failures.Add($"{prefix}:Destination must be an absolute http(s) address such as http://agent-stable.");
        }

        if (!RevisionRules.IsValidVersion(track.Version))
        {
            failures.Add($"{prefix}:Version must be a version label such as 1.0.0 ({RevisionRules.VersionRule}).");
        }
    }

    // A registry host (with an optional port) and path components; a tag or digest belongs to a revision.
    [GeneratedRegex("^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*)*\\z")]
    private static partial Regex ImageRepository();
}
