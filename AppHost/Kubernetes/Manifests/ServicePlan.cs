using AppHost.Kubernetes.AppModel;
using k8s.Models;

namespace AppHost.Kubernetes.Manifests;

/// <summary>
/// Everything one service's objects are built from: the service as read from the model, and what the publisher decided
/// for it (its labels, replica count and environment) and where it goes (the namespace).
/// </summary>
public sealed record ServicePlan(
    PublishedService Service,
    IReadOnlyDictionary<string, string> ObjectLabels,
    int Replicas,
    ServiceEnvironment Environment,
    string Namespace)
{
    public string Name => Service.Name;

    /// <summary>Metadata for an object of this service named <paramref name="name"/> (the service's name by default).</summary>
    public V1ObjectMeta Metadata(string? name = null) => ManifestObjects.Metadata(name ?? Service.Name, Namespace, ObjectLabels);

    /// <summary>The labels that select this service's pods.</summary>
    public Dictionary<string, string> Selector => Labels.SelectorFor(ObjectLabels);
}
