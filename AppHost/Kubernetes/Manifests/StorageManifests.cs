using k8s.Models;

namespace AppHost.Kubernetes.Manifests;

/// <summary>The control plane's volume: a ReadWriteOnce claim for the SQLite file, mounted at <see cref="DataMountPath"/>.</summary>
public static class StorageManifests
{
    public const string DataMountPath = "/data";
    public const string DatabaseFileName = "rollouts.db";

    public static string DataClaimName(string service) => $"{service}-data";

    public static V1PersistentVolumeClaim DataClaim(ServicePlan plan, KubernetesPublishOptions options) =>
        ManifestObjects.New<V1PersistentVolumeClaim>(o =>
        {
            o.Metadata = plan.Metadata(DataClaimName(plan.Name));
            o.Spec = new V1PersistentVolumeClaimSpec
            {
                AccessModes = ["ReadWriteOnce"],
                StorageClassName = string.IsNullOrEmpty(options.StorageClassName) ? null : options.StorageClassName,
                Resources = new V1VolumeResourceRequirements
                {
                    Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(options.StorageSize) },
                },
            };
        });
}
