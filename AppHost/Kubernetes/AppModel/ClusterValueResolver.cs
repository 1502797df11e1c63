using System.Globalization;

namespace AppHost.Kubernetes.AppModel;

/// <summary>
/// Turns a value of the app model (an environment variable's value, a track's version) into its text on the cluster:
/// references become <c>http://&lt;service&gt;:&lt;port&gt;</c>, parameters their values, and whether a secret went into
/// it is remembered. A reference to an endpoint that is not published (https) resolves to null: the value is dropped.
/// </summary>
public sealed class ClusterValueResolver
{
    /// <summary>How long a parameter may take to produce its value; the process-parameters step has normally resolved it.</summary>
    private static readonly TimeSpan ParameterDeadline = TimeSpan.FromSeconds(30);

    private readonly Dictionary<(string Resource, string Endpoint), ClusterEndpoint> _endpoints = [];

    /// <summary>Makes an endpoint resolvable: other pods reach it as the Service <paramref name="resource"/> on the port's service port.</summary>
    public void AddEndpoint(string resource, PublishedPort port) => _endpoints[(resource, port.Name)] = new ClusterEndpoint(resource, port);

    /// <summary>A value as the cluster sees it; null when it refers to something that is not published.</summary>
    public async Task<ResolvedValue?> ResolveAsync(object? value, string where, CancellationToken cancellationToken)
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

    /// <summary>An endpoint as other pods reach it: the Service's DNS name and port.</summary>
    private sealed record ClusterEndpoint(string Host, PublishedPort Port)
    {
        public string Url => $"http://{Host}:{Port.ServicePort.ToString(CultureInfo.InvariantCulture)}";
    }
}
