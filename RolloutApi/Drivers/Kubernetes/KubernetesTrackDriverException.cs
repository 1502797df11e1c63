using System.Net;

namespace RolloutApi.Drivers.Kubernetes;

/// <summary>
/// The Kubernetes API refused or failed a driver call. The message names the verb, the resource, the object and the
/// namespace, and for 401/403 the RBAC rule that is missing, so the engine can log and surface it as it is.
/// </summary>
public sealed class KubernetesTrackDriverException : Exception
{
    public KubernetesTrackDriverException(string message, string verb, string resource, string @namespace, string name, HttpStatusCode? statusCode, Exception? innerException = null)
        : base(message, innerException)
    {
        Verb = verb;
        Resource = resource;
        Namespace = @namespace;
        Name = name;
        StatusCode = statusCode;
    }

    /// <summary>The Kubernetes verb: <c>get</c>, <c>patch</c>, <c>watch</c>.</summary>
    public string Verb { get; }

    /// <summary>The resource, e.g. <c>deployments</c> or <c>deployments/scale</c>.</summary>
    public string Resource { get; }

    public string Namespace { get; }

    /// <summary>The Deployment's name.</summary>
    public string Name { get; }

    /// <summary>The API server's answer, when there was one.</summary>
    public HttpStatusCode? StatusCode { get; }
}
