using System.Text.RegularExpressions;

namespace AppHost.Kubernetes;

/// <summary>
/// Where the services' images come from: <c>&lt;registry&gt;/&lt;project name, lowercase&gt;:&lt;tag&gt;</c>, the name
/// <c>dotnet publish /t:PublishContainer</c> gives a project's image by default.
/// </summary>
public sealed partial record ContainerImages(string Registry, string Tag)
{
    /// <summary>
    /// Every reason these images cannot be published; empty when they can. A revision names an immutable tag,
    /// so <c>latest</c> and an empty tag are refused: a rollout or an undo must know exactly what it runs.
    /// </summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Tag))
        {
            problems.Add($"The image tag is empty. Set the '{KubernetesParameterNames.ImageTag}' parameter to an immutable tag, e.g. --Parameters:{KubernetesParameterNames.ImageTag}=1.4.2.");
        }
        else if (string.Equals(Tag, "latest", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"The image tag '{Tag}' is mutable: a revision must name an immutable image tag. Set the '{KubernetesParameterNames.ImageTag}' parameter, e.g. --Parameters:{KubernetesParameterNames.ImageTag}=1.4.2.");
        }
        else if (!TagPattern().IsMatch(Tag))
        {
            problems.Add($"The image tag '{Tag}' is not a valid tag (letters, digits, '_', '.', '-'; at most 128 characters, not starting with '.' or '-').");
        }

        if (string.IsNullOrWhiteSpace(Registry))
        {
            problems.Add($"The image registry is empty. Set the '{KubernetesParameterNames.ImageRegistry}' parameter, e.g. --Parameters:{KubernetesParameterNames.ImageRegistry}=registry.example.com/agentaspire.");
        }
        else if (!RegistryPattern().IsMatch(Registry))
        {
            problems.Add($"The image registry '{Registry}' is not a valid repository prefix (lowercase host[:port]/path, no scheme, no tag).");
        }

        return problems;
    }

    /// <summary>The image of a project, by its project file's name (AgentWorker → <c>agentworker</c>).</summary>
    public string For(string projectName) => $"{Registry}/{projectName.ToLowerInvariant()}:{Tag}";

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex("^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$")]
    private static partial Regex RegistryPattern();
}
