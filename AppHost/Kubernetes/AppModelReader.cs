using System.Globalization;
using AgentAspire.Contracts;

namespace AppHost.Kubernetes;

/// <summary>
/// Reads the app model's project resources as they will run on a cluster: endpoints become container and Service
/// ports, environment callbacks are evaluated in publish mode, and every value is resolved for the cluster —
/// references become <c>http://&lt;service&gt;:&lt;port&gt;</c>, parameters their values, secret or not.
/// </summary>
public sealed class AppModelReader
{
    /// <summary>The port .NET container images listen on (their <c>ASPNETCORE_HTTP_PORTS</c> default).</summary>
    public const int ContainerHttpPort = 8080;

    /// <summary>The port Services expose, so that <c>http://&lt;service&gt;</c> works without service discovery too.</summary>
    public const int ServiceHttpPort = 80;

    /// <summary>How long a parameter may take to produce its value; the process-parameters step has normally resolved it.</summary>
    private static readonly TimeSpan ParameterDeadline = TimeSpan.FromSeconds(30);

    private readonly DistributedApplicationExecutionContext _executionContext;
    private readonly Dictionary<(string Resource, string Endpoint), ClusterEndpoint> _endpoints = [];

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
        var projects = model.GetProjectResources().Where(p => !p.IsExcludedFromPublish()).ToList();

        // Ports first: a service's environment may reference any other service's endpoint.
        var ports = projects.ToDictionary(p => p.Name, PlacePorts);

        var services = new List<PublishedService>();
        foreach (var project in projects)
        {
            services.Add(await ReadProjectAsync(project, ports[project.Name], cancellationToken));
        }

        return services;
    }

    private List<PublishedPort> PlacePorts(ProjectResource project)
    {
        var ports = new List<PublishedPort>();
        // Only plain HTTP endpoints are published: TLS ends at the cluster's edge (load balancer or ingress), so
        // no container listens on HTTPS and the model's https endpoints (and references to them) are dropped.
        var httpEndpoints = project.Annotations.OfType<EndpointAnnotation>()
            .Where(e => string.Equals(e.UriScheme, "http", StringComparison.OrdinalIgnoreCase));

        foreach (var endpoint in httpEndpoints)
        {
            var isFirst = ports.Count == 0;
            var containerPort = endpoint.TargetPort ?? (isFirst ? ContainerHttpPort : 0);
            var servicePort = endpoint.Port ?? (isFirst ? ServiceHttpPort : containerPort);
            if (containerPort == 0)
            {
                throw new KubernetesPublishException(
                    $"Resource '{project.Name}': endpoint '{endpoint.Name}' needs a target port; only the first HTTP endpoint gets the default {ContainerHttpPort}.");
            }

            if (ports.Any(p => p.ContainerPort == containerPort || p.ServicePort == servicePort))
            {
                throw new KubernetesPublishException(
                    $"Resource '{project.Name}': endpoint '{endpoint.Name}' would share port {containerPort}/{servicePort} with another endpoint.");
            }

            var port = new PublishedPort(endpoint.Name, containerPort, servicePort);
            ports.Add(port);
            _endpoints[(project.Name, endpoint.Name)] = new ClusterEndpoint(project.Name, port);
        }

        return ports;
    }

    private async Task<PublishedService> ReadProjectAsync(ProjectResource project, List<PublishedPort> ports, CancellationToken cancellationToken)
    {
        var environment = await EvaluateEnvironmentAsync(project, cancellationToken);

        var configuration = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var secrets = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in environment)
        {
            var resolved = await ResolveAsync(value, $"environment variable '{name}' of resource '{project.Name}'", cancellationToken);
            if (resolved is null)
            {
                continue;
            }

            (resolved.IsSecret ? secrets : configuration)[name] = resolved.Text;
        }

        return new PublishedService
        {
            Name = project.Name,
            ProjectName = Path.GetFileNameWithoutExtension(project.GetProjectMetadata().ProjectPath),
            Replicas = project.GetReplicaCount(),
            Ports = ports,
            IsExternal = project.Annotations.OfType<EndpointAnnotation>().Any(e => e.IsExternal),
            Configuration = configuration,
            Secrets = secrets,
            Agent = ReadAgentTrack(configuration),
        };
    }

    /// <summary>Runs the resource's environment callbacks the way a deployment sees them: in publish mode.</summary>
    private async Task<Dictionary<string, object>> EvaluateEnvironmentAsync(ProjectResource project, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, object>(StringComparer.Ordinal);
        if (project.TryGetEnvironmentVariables(out var callbacks))
        {
            var context = new EnvironmentCallbackContext(_executionContext, project, environment, cancellationToken);
            foreach (var callback in callbacks)
            {
                await callback.Callback(context);
            }
        }

        return environment;
    }

    /// <summary>
    /// An agent track is recognised by the identity the model gives it (<c>Agent__Track</c> = stable or canary),
    /// not by its resource name, so a second agent's tracks are published the same way.
    /// </summary>
    private static AgentTrack? ReadAgentTrack(IReadOnlyDictionary<string, string> configuration)
    {
        if (!configuration.TryGetValue(AgentSettings.Track, out var track) || !Tracks.IsKnown(track))
        {
            return null;
        }

        var name = configuration.GetValueOrDefault(AgentSettings.Name) ?? ResourceNames.DefaultAgent;
        var version = configuration.GetValueOrDefault(AgentSettings.Version) ?? "";
        return new AgentTrack(name, track, version);
    }

    /// <summary>A value as the cluster sees it; null when it refers to something that is not published (https endpoints).</summary>
    private async Task<ResolvedValue?> ResolveAsync(object? value, string where, CancellationToken cancellationToken)
    {
        switch (value)
        {
            case null:
                return new ResolvedValue("", IsSecret: false);
            case string text:
                return new ResolvedValue(text, IsSecret: false);
            case ParameterResource parameter:
                return new ResolvedValue(await GetParameterValueAsync(parameter, cancellationToken) ?? "", parameter.Secret);
            case IResourceBuilder<ParameterResource> parameterBuilder:
                return await ResolveAsync(parameterBuilder.Resource, where, cancellationToken);
            case EndpointReference endpoint:
                return ResolveEndpoint(endpoint, EndpointProperty.Url);
            case EndpointReferenceExpression expression:
                return ResolveEndpoint(expression.Endpoint, expression.Property);
            case ConnectionStringReference connectionString:
                return await ResolveAsync(connectionString.ConnectionStringExpression, where, cancellationToken);
            case ReferenceExpression expression:
                return await ResolveExpressionAsync(expression, where, cancellationToken);
            case IFormattable formattable:
                return new ResolvedValue(formattable.ToString(null, CultureInfo.InvariantCulture), IsSecret: false);
            default:
                throw new KubernetesPublishException(
                    $"The Kubernetes publisher cannot translate {where}: a {value.GetType().Name} has no cluster equivalent it knows.");
        }
    }

    private async Task<ResolvedValue?> ResolveExpressionAsync(ReferenceExpression expression, string where, CancellationToken cancellationToken)
    {
        if (expression.IsConditional)
        {
            var condition = await ResolveAsync(expression.Condition, where, cancellationToken);
            var branch = string.Equals(condition?.Text, expression.MatchValue, StringComparison.OrdinalIgnoreCase)
                ? expression.WhenTrue
                : expression.WhenFalse;
            return await ResolveAsync(branch, where, cancellationToken);
        }

        var arguments = new object?[expression.ValueProviders.Count];
        var isSecret = false;
        for (var i = 0; i < arguments.Length; i++)
        {
            var part = await ResolveAsync(expression.ValueProviders[i], where, cancellationToken);
            if (part is null)
            {
                return null;
            }

            isSecret |= part.IsSecret;
            var format = i < expression.StringFormats.Count ? expression.StringFormats[i] : null;
            arguments[i] = string.Equals(format, "uri", StringComparison.OrdinalIgnoreCase) ? Uri.EscapeDataString(part.Text) : part.Text;
        }

        return new ResolvedValue(string.Format(CultureInfo.InvariantCulture, expression.Format, arguments), isSecret);
    }

    private ResolvedValue? ResolveEndpoint(EndpointReference reference, EndpointProperty property)
    {
        if (!_endpoints.TryGetValue((reference.Resource.Name, reference.EndpointName), out var endpoint))
        {
            return null;
        }

        var text = property switch
        {
            EndpointProperty.Url => endpoint.Url,
            EndpointProperty.Host or EndpointProperty.IPV4Host => endpoint.Host,
            EndpointProperty.Port => endpoint.Port.ServicePort.ToString(CultureInfo.InvariantCulture),
            EndpointProperty.TargetPort => endpoint.Port.ContainerPort.ToString(CultureInfo.InvariantCulture),
            EndpointProperty.Scheme => "http",
            EndpointProperty.HostAndPort => $"{endpoint.Host}:{endpoint.Port.ServicePort.ToString(CultureInfo.InvariantCulture)}",
            EndpointProperty.TlsEnabled => bool.FalseString,
            _ => throw new KubernetesPublishException($"Endpoint property {property} of '{reference.Resource.Name}' has no cluster equivalent."),
        };
        return new ResolvedValue(text, IsSecret: false);
    }

    private static async Task<string?> GetParameterValueAsync(ParameterResource parameter, CancellationToken cancellationToken)
    {
        try
        {
            return await parameter.GetValueAsync(cancellationToken).AsTask().WaitAsync(ParameterDeadline, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new KubernetesPublishException(
                $"Parameter '{parameter.Name}' has no value. Give it one, e.g. --Parameters:{parameter.Name}=...");
        }
    }

    private sealed record ResolvedValue(string Text, bool IsSecret);

    /// <summary>An endpoint as other pods reach it: the Service's DNS name and port.</summary>
    private sealed record ClusterEndpoint(string Host, PublishedPort Port)
    {
        public string Url => $"http://{Host}:{Port.ServicePort.ToString(CultureInfo.InvariantCulture)}";
    }
}

/// <summary>The agent identity settings (<c>Agent</c> section) as environment variable names.</summary>
public static class AgentSettings
{
    public static readonly string Name = ConfigKeys.ToEnvironmentVariable(ConfigKeys.Agent.Name);
    public static readonly string Track = ConfigKeys.ToEnvironmentVariable(ConfigKeys.Agent.Track);
    public static readonly string Version = ConfigKeys.ToEnvironmentVariable(ConfigKeys.Agent.Version);
}
