using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace RolloutApi.Model;

/// <summary>What a valid agent name, version label and image tag look like (one place for API and configuration).</summary>
public static partial class RevisionRules
{
    public const string VersionRule = "1-64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit";
    public const string BuildRule = "64 lowercase hexadecimal characters: a stored build's content hash (README: canary your working copy)";
    public const string ImageTagRule = "a tag of 1-128 characters (letters, digits, '_', '.', '-', not starting with '.' or '-') or a sha256 digest";

    /// <summary>The tag that moves under you; a revision must name something that cannot change.</summary>
    public const string MutableTag = "latest";

    public static bool IsValidAgentName([NotNullWhen(true)] string? name) => name is not null && AgentName().IsMatch(name);

    public static bool IsValidVersion([NotNullWhen(true)] string? version) => version is not null && Version().IsMatch(version);

    public static bool IsValidBuild([NotNullWhen(true)] string? build) => build is not null && Build().IsMatch(build);

    public static bool IsValidImageTag(string? tag, out string reason)
    {
        if (string.IsNullOrWhiteSpace(tag))
        {
            reason = "an image tag must not be empty.";
            return false;
        }

        if (string.Equals(tag, MutableTag, StringComparison.OrdinalIgnoreCase))
        {
            reason = "'latest' is mutable; name an immutable tag or digest.";
            return false;
        }

        if (!ImageTag().IsMatch(tag) && !Digest().IsMatch(tag))
        {
            reason = $"'{tag}' is not {ImageTagRule}.";
            return false;
        }

        reason = "";
        return true;
    }

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\z")]
    private static partial Regex AgentName();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\\z")]
    private static partial Regex Version();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\\z")]
    private static partial Regex ImageTag();

    [GeneratedRegex("^[a-f0-9]{64}\\z")]
    private static partial Regex Build();

    [GeneratedRegex("^sha256:[a-f0-9]{64}\\z")]
    private static partial Regex Digest();
}
