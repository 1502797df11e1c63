namespace AppHost.Kubernetes;

/// <summary>
/// One project resource as it runs on a cluster: what the app model says about it (name, image, ports, environment,
/// replicas), with references already turned into cluster DNS names and secrets kept apart from plain values.
/// </summary>
public sealed record PublishedService
{
    /// <summary>The resource name: the Deployment's, the Service's and the DNS name other services call.</summary>
    public required string Name { get; init; }

    /// <summary>The project file's name (e.g. <c>AgentWorker</c>): the image repository's last segment.</summary>
    public required string ProjectName { get; init; }

    /// <summary>Replicas the app model asks for (<c>WithReplicas</c>); agent tracks and RolloutApi override it.</summary>
    public required int Replicas { get; init; }

    public required IReadOnlyList<PublishedPort> Ports { get; init; }

    /// <summary>Whether the model marks an endpoint external (<c>WithExternalHttpEndpoints</c>).</summary>
    public required bool IsExternal { get; init; }

    /// <summary>Environment variables with plain values: they go to the service's ConfigMap.</summary>
    public required IReadOnlyDictionary<string, string> Configuration { get; init; }

    /// <summary>Environment variables whose value contains a secret parameter: they go to the service's Secret only.</summary>
    public required IReadOnlyDictionary<string, string> Secrets { get; init; }

    /// <summary>The agent this resource runs a track of, when it is one (read from its <c>Agent__*</c> settings).</summary>
    public AgentTrack? Agent { get; init; }
}

/// <summary>An HTTP endpoint of a service: the port its container listens on and the port its Service exposes.</summary>
public sealed record PublishedPort(string Name, int ContainerPort, int ServicePort);

/// <summary>Which agent, track and version label a resource runs.</summary>
public sealed record AgentTrack(string AgentName, string Track, string Version);
