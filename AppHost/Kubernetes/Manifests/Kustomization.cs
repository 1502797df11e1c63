using System.Text.Json.Serialization;
using k8s;

namespace AppHost.Kubernetes.Manifests;

/// <summary>The few fields of kustomize's <c>Kustomization</c> the publisher writes.</summary>
public sealed class Kustomization : IKubernetesObject
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = "kustomize.config.k8s.io/v1beta1";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "Kustomization";

    [JsonPropertyName("namespace")]
    public string? Namespace { get; set; }

    [JsonPropertyName("resources")]
    public IList<string> Resources { get; set; } = [];
}
