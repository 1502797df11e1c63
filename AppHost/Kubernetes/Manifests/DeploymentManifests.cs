using System.Globalization;
using AgentAspire.Contracts;
using k8s.Models;

namespace AppHost.Kubernetes.Manifests;

/// <summary>
/// A service's Deployment: its image, environment (ConfigMap, Secret keys, revision values), probes on the health
/// endpoints, requests and limits, a non-root read-only pod; the control plane with its data volume and ServiceAccount.
/// </summary>
public static class DeploymentManifests
{
    /// <summary>The UID of the non-root <c>app</c> user in the .NET container images.</summary>
    public const long AppUserId = 1654;

    public const string TmpMountPath = "/tmp";

    public static V1Deployment Build(ServicePlan plan, KubernetesPublishOptions options, ContainerImages images)
    {
        var service = plan.Service;
        var isControlPlane = service.IsControlPlane;
        var podAnnotations = new Dictionary<string, string>();
        if (service.Ports.Count > 0)
        {
            podAnnotations["prometheus.io/scrape"] = "true";
            podAnnotations["prometheus.io/port"] = service.Ports[0].ContainerPort.ToString(CultureInfo.InvariantCulture);
            podAnnotations["prometheus.io/path"] = HealthPaths.Metrics;
        }

        var volumes = new List<V1Volume>
        {
            // The root filesystem is read-only; .NET still wants a writable temp directory (diagnostics IPC, temp files).
            new() { Name = "tmp", EmptyDir = new V1EmptyDirVolumeSource { SizeLimit = new ResourceQuantity("64Mi") } },
        };
        var mounts = new List<V1VolumeMount> { new() { Name = "tmp", MountPath = TmpMountPath } };
        if (isControlPlane)
        {
            volumes.Add(new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = StorageManifests.DataClaimName(service.Name) } });
            mounts.Add(new V1VolumeMount { Name = "data", MountPath = StorageManifests.DataMountPath });
        }

        var container = Container(plan, options, images, mounts);
        return ManifestObjects.New<V1Deployment>(o =>
        {
            o.Metadata = plan.Metadata();
            o.Spec = new V1DeploymentSpec
            {
                Replicas = plan.Replicas,
                RevisionHistoryLimit = 5,
                Selector = new V1LabelSelector { MatchLabels = plan.Selector },
                Strategy = isControlPlane
                    // The volume is ReadWriteOnce and SQLite has one writer: the old pod must stop before the new one starts.
                    ? new V1DeploymentStrategy { Type = "Recreate" }
                    : new V1DeploymentStrategy
                    {
                        Type = "RollingUpdate",
                        RollingUpdate = new V1RollingUpdateDeployment { MaxUnavailable = 0, MaxSurge = 1 },
                    },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(plan.ObjectLabels), Annotations = podAnnotations },
                    Spec = new V1PodSpec
                    {
                        ServiceAccountName = isControlPlane ? service.Name : null,
                        // Only the control plane talks to the API server; other pods get no token to leak.
                        AutomountServiceAccountToken = isControlPlane,
                        // Service links would add a variable per Service to every pod; service discovery uses DNS.
                        EnableServiceLinks = false,
                        SecurityContext = new V1PodSecurityContext
                        {
                            RunAsNonRoot = true,
                            RunAsUser = AppUserId,
                            RunAsGroup = AppUserId,
                            // Makes the data volume writable by the app user.
                            FsGroup = AppUserId,
                            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
                        },
                        Containers = [container],
                        Volumes = volumes,
                    },
                },
            };
        });
    }

    private static V1Container Container(ServicePlan plan, KubernetesPublishOptions options, ContainerImages images, List<V1VolumeMount> mounts)
    {
        var service = plan.Service;
        var environment = plan.Environment;
        var container = new V1Container
        {
            Name = service.Name,
            Image = images.For(service.ProjectName),
            ImagePullPolicy = "IfNotPresent",
            Ports = [.. service.Ports.Select(p => new V1ContainerPort { Name = p.Name, ContainerPort = p.ContainerPort, Protocol = "TCP" })],
            EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = ConfigurationManifests.ConfigMapName(service.Name) } }],
            Env = environment.Secrets.Count + environment.Revision.Count > 0
                ?
                [
                    .. environment.Revision.Select(v => new V1EnvVar { Name = v.Key, Value = v.Value }),
                    .. environment.Secrets.Keys.Select(name => new V1EnvVar
                    {
                        Name = name,
                        ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = ConfigurationManifests.SecretName(service.Name), Key = name } },
                    }),
                ]
                : null,
            Resources = new V1ResourceRequirements
            {
                Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(options.CpuRequest), ["memory"] = new(options.MemoryRequest) },
                Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(options.CpuLimit), ["memory"] = new(options.MemoryLimit) },
            },
            SecurityContext = new V1SecurityContext
            {
                RunAsNonRoot = true,
                RunAsUser = AppUserId,
                RunAsGroup = AppUserId,
                ReadOnlyRootFilesystem = true,
                AllowPrivilegeEscalation = false,
                Privileged = false,
                Capabilities = new V1Capabilities { Drop = ["ALL"] },
                SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
            },
            VolumeMounts = mounts,
        };

        if (service.Ports.Count > 0)
        {
            var port = service.Ports[0].Name;
            container.LivenessProbe = HttpProbe(HealthPaths.Alive, port, periodSeconds: 10, failureThreshold: 3);
            container.ReadinessProbe = HttpProbe(HealthPaths.Health, port, periodSeconds: 5, failureThreshold: 3);
            // Up to a minute to start (migrations, first flag load) before liveness may restart the pod.
            container.StartupProbe = HttpProbe(HealthPaths.Health, port, periodSeconds: 2, failureThreshold: 30);
        }

        return container;
    }

    private static V1Probe HttpProbe(string path, string port, int periodSeconds, int failureThreshold) => new()
    {
        HttpGet = new V1HTTPGetAction { Path = path, Port = port, Scheme = "HTTP" },
        PeriodSeconds = periodSeconds,
        TimeoutSeconds = 2,
        FailureThreshold = failureThreshold,
    };
}
