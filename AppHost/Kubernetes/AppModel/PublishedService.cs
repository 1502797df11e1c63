using AppHost.Model;

namespace AppHost.Kubernetes.AppModel;

/// <summary>
/// One resource as it runs on a cluster: what the app model says about it (name, role, image, ports, environment,
/// replicas, agent track), with references already turned into cluster DNS names and secrets kept apart from plain values.
/// </summary>
public sealed record PublishedService
{
    /// <summary>The resource name: the Deployment's, the Service's and the DNS name other services call.</summary>
    public required string Name { get; init; }

    /// <summary>The part the resource plays (<see cref="ResourceRoleAnnotation"/>); null for any other service.</summary>
    public ResourceRole? Role { get; init; }

    /// <summary>The project file's name (e.g. <c>AgentWorker</c>): the image repository's last segment.</summary>
    public required string ProjectName { get; init; }

    /// <summary>Replicas the app model asks for (<c>WithReplicas</c>); agent tracks and the control plane override it.</summary>
    public required int Replicas { get; init; }

    public required IReadOnlyList<PublishedPort> Ports { get; init; }

    /// <summary>Whether the model marks an endpoint external (<c>WithExternalHttpEndpoints</c>).</summary>
    public required bool IsExternal { get; init; }

    /// <summary>Environment variables with plain values: they go to the service's ConfigMap.</summary>
    public required IReadOnlyDictionary<string, string> Configuration { get; init; }

    /// <summary>Environment variables whose value contains a secret parameter: they go to the service's Secret only.</summary>
    public required IReadOnlyDictionary<string, string> Secrets { get; init; }

    /// <summary>The agent track this resource runs, when it runs one (its <see cref="AgentTrackAnnotation"/>, resolved).</summary>
    public PublishedTrack? Agent { get; init; }

    public bool IsControlPlane => Role == ResourceRole.ControlPlane;
}
