using k8s.Models;

namespace AppHost.Kubernetes.Manifests;

/// <summary>The Namespace object, when the publish creates it.</summary>
public static class NamespaceManifests
{
    public static V1Namespace Build(string @namespace) => ManifestObjects.New<V1Namespace>(o => o.Metadata = new V1ObjectMeta
    {
        Name = @namespace,
        Labels = new Dictionary<string, string>
        {
            [Labels.PartOf] = KubernetesManifestBuilder.PartOf,
            // Every pod here meets the "restricted" Pod Security Standard; the namespace refuses any that does not.
            ["pod-security.kubernetes.io/enforce"] = "restricted",
            ["pod-security.kubernetes.io/enforce-version"] = "latest",
        },
    });
}
