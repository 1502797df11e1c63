using System.Text.RegularExpressions;
using AppHost.Kubernetes.AppModel;
using AppHost.Model;

namespace AppHost.Kubernetes.Manifests;

/// <summary>
/// The recommended <c>app.kubernetes.io/*</c> labels, one place: both tracks of an agent share a name (the agent) and
/// differ by instance, version and <c>track</c>; pods are selected by instance within the app.
/// </summary>
public static partial class Labels
{
    public const string Name = "app.kubernetes.io/name";
    public const string Instance = "app.kubernetes.io/instance";
    public const string Component = "app.kubernetes.io/component";
    public const string PartOf = "app.kubernetes.io/part-of";
    public const string Version = "app.kubernetes.io/version";
    public const string ManagedBy = "app.kubernetes.io/managed-by";
    public const string Track = "track";

    /// <summary>
    /// A service's labels; the version is the track's version label, or the image tag. The component is the role
    /// (<c>agent</c>, <c>control-plane</c>) where the role has a published component name, else the service's name.
    /// </summary>
    public static Dictionary<string, string> For(PublishedService service, string imageTag)
    {
        var version = string.IsNullOrEmpty(service.Agent?.Version) ? imageTag : service.Agent.Version;
        var labels = new Dictionary<string, string>
        {
            [Name] = service.Agent?.AgentName ?? service.Name,
            [Instance] = service.Name,
            [Component] = service.Agent is not null ? "agent" : service.Role == ResourceRole.ControlPlane ? "control-plane" : service.Name,
            [PartOf] = KubernetesManifestBuilder.PartOf,
            [Version] = version,
            [ManagedBy] = "aspire",
        };
        if (service.Agent is not null)
        {
            labels[Track] = service.Agent.Track;
        }

        foreach (var (key, value) in labels)
        {
            if (!LabelValue().IsMatch(value))
            {
                throw new KubernetesPublishException($"Resource '{service.Name}': label {key}='{value}' is not a valid label value (at most 63 letters, digits, '-', '_', '.').");
            }
        }

        return labels;
    }

    /// <summary>
    /// Pods are selected by instance (one per resource) within the app; the version is left out because it
    /// changes with every revision and a Deployment's selector cannot.
    /// </summary>
    public static Dictionary<string, string> SelectorFor(IReadOnlyDictionary<string, string> labels) => new()
    {
        [Instance] = labels[Instance],
        [PartOf] = labels[PartOf],
    };

    [GeneratedRegex("^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();
}
