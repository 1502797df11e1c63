using k8s.Models;

namespace AppHost.Kubernetes.Manifests;

/// <summary>A service's ConfigMap (plain values, read as environment) and Secret (secret values, read by key).</summary>
public static class ConfigurationManifests
{
    public static string ConfigMapName(string service) => $"{service}-config";

    public static string SecretName(string service) => $"{service}-secrets";

    public static V1ConfigMap ConfigMap(ServicePlan plan) =>
        ManifestObjects.New<V1ConfigMap>(o =>
        {
            o.Metadata = plan.Metadata(ConfigMapName(plan.Name));
            o.Data = new Dictionary<string, string>(plan.Environment.Configuration, StringComparer.Ordinal);
        });

    public static V1Secret Secret(ServicePlan plan) =>
        ManifestObjects.New<V1Secret>(o =>
        {
            o.Metadata = plan.Metadata(SecretName(plan.Name));
            o.Type = "Opaque";
            o.StringData = new Dictionary<string, string>(plan.Environment.Secrets, StringComparer.Ordinal);
        });
}
