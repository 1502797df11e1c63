using AppHost.Model;

namespace AppHost.Kubernetes.AppModel;

/// <summary>
/// Reads the app model's resources as they will run on a cluster: every project, and every agent track whatever its
/// resource type (its <see cref="AgentTrackAnnotation"/> names the project its image is built from). Endpoints become
/// container and Service ports, environment callbacks are evaluated in publish mode, every value is resolved for the
/// cluster (<see cref="ClusterValueResolver"/>), and roles and tracks are read from their annotations, never from
/// names or environment strings.
/// </summary>
public sealed class AppModelReader
{
    /// <summary>The port .NET container images listen on (their <c>ASPNETCORE_HTTP_PORTS</c> default).</summary>
    public const int ContainerHttpPort = 8080;

    /// <summary>The port Services expose, so that <c>http://&lt;service&gt;</c> works without service discovery too.</summary>
    public const int ServiceHttpPort = 80;

    private readonly DistributedApplicationExecutionContext _executionContext;
    private readonly ClusterValueResolver _values = new();

    public AppModelReader(DistributedApplicationExecutionContext executionContext)
    {
        if (!executionContext.IsPublishMode)
        {
            // Run mode evaluates references to localhost ports; only publish mode describes a deployment.
            throw new ArgumentException("The app model must be read in publish mode.", nameof(executionContext));
        }

        _executionContext = executionContext;
    }

    public async Task<IReadOnlyList<PublishedService>> ReadAsync(DistributedApplicationModel model, CancellationToken cancellationToken)
    {
        var resources = model.Resources
            .OfType<IResourceWithEnvironment>()
            .Where(r => r is ProjectResource || r.TryGetAgentTrack(out _))
            .Where(r => !r.IsExcludedFromPublish())
            .ToList();

        // Ports first: a service's environment may reference any other service's endpoint.
        var ports = resources.ToDictionary(r => r.Name, PlacePorts);

        var services = new List<PublishedService>();
        foreach (var resource in resources)
        {
            services.Add(await ReadResourceAsync(resource, ports[resource.Name], cancellationToken));
        }

        return services;
    }

    private List<PublishedPort> PlacePorts(IResource resource)
    {
        var ports = new List<PublishedPort>();
        // Only plain HTTP endpoints are published: TLS ends at the cluster's edge (load balancer or ingress), so
        // no container listens on HTTPS and the model's https endpoints (and references to them) are dropped.
        var httpEndpoints = resource.Annotations.OfType<EndpointAnnotation>()
            .Where(e => string.Equals(e.UriScheme, "http", StringComparison.OrdinalIgnoreCase));

        foreach (var endpoint in httpEndpoints)
        {
            var isFirst = ports.Count == 0;
            var containerPort = endpoint.TargetPort ?? (isFirst ? ContainerHttpPort : 0);
            var servicePort = endpoint.Port ?? (isFirst ? ServiceHttpPort : containerPort);
            if (containerPort == 0)
            {
                throw new KubernetesPublishException(
                    $"Resource '{resource.Name}': endpoint '{endpoint.Name}' needs a target port; only the first HTTP endpoint gets the default {ContainerHttpPort}.");
            }

            if (ports.Any(p => p.ContainerPort == containerPort || p.ServicePort == servicePort))
            {
                throw new KubernetesPublishException(
                    $"Resource '{resource.Name}': endpoint '{endpoint.Name}' would share port {containerPort}/{servicePort} with another endpoint.");
            }

            var port = new PublishedPort(endpoint.Name, containerPort, servicePort);
            ports.Add(port);
            _values.AddEndpoint(resource.Name, port);
        }

        return ports;
    }

    private async Task<PublishedService> ReadResourceAsync(IResourceWithEnvironment resource, List<PublishedPort> ports, CancellationToken cancellationToken)
    {
        var environment = await EvaluateEnvironmentAsync(resource, cancellationToken);

        var configuration = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var secrets = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in environment)
        {
            var resolved = await _values.ResolveAsync(value, $"environment variable '{name}' of resource '{resource.Name}'", cancellationToken);
            if (resolved is null)
            {
                continue;
            }

            (resolved.IsSecret ? secrets : configuration)[name] = resolved.Text;
        }

        resource.TryGetAgentTrack(out var track);
        return new PublishedService
        {
            Name = resource.Name,
            Role = resource.GetRole(),
            // A track names the project its builds come from; any other published resource is a project.
            ProjectName = track?.ProjectName ?? Path.GetFileNameWithoutExtension(((ProjectResource)resource).GetProjectMetadata().ProjectPath),
            Replicas = resource.GetReplicaCount(),
            Ports = ports,
            IsExternal = resource.Annotations.OfType<EndpointAnnotation>().Any(e => e.IsExternal),
            Configuration = configuration,
            Secrets = secrets,
            Agent = track is null ? null : await ReadTrackAsync(resource, track, cancellationToken),
        };
    }

    private async Task<PublishedTrack> ReadTrackAsync(IResource resource, AgentTrackAnnotation track, CancellationToken cancellationToken)
    {
        var version = await _values.ResolveAsync(track.Version, $"the version label of agent track '{resource.Name}'", cancellationToken);
        if (version?.IsSecret == true)
        {
            // It becomes a label and a literal container env value: places that are not secret.
            throw new KubernetesPublishException($"Agent track '{resource.Name}': its version label is built from a secret parameter.");
        }

        return new PublishedTrack(track.Agent, track.Track, version?.Text ?? "", track.VersionKey);
    }

    /// <summary>Runs the resource's environment callbacks the way a deployment sees them: in publish mode.</summary>
    private async Task<Dictionary<string, object>> EvaluateEnvironmentAsync(IResource resource, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, object>(StringComparer.Ordinal);
        if (resource.TryGetEnvironmentVariables(out var callbacks))
        {
            var context = new EnvironmentCallbackContext(_executionContext, resource, environment, cancellationToken);
            foreach (var callback in callbacks)
            {
                await callback.Callback(context);
            }
        }

        return environment;
    }
}
