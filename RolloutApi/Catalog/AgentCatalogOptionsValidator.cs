using System.Text.RegularExpressions;
using AgentAspire.Contracts;
using Microsoft.Extensions.Options;
using RolloutApi.Hosting;
using RolloutApi.Model;

namespace RolloutApi.Catalog;

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
