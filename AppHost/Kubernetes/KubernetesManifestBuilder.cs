using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using AgentAspire.Contracts;
using k8s;
using k8s.Models;

namespace AppHost.Kubernetes;

/// <summary>
/// Turns the app model (read by <see cref="AppModelReader"/>), the publish options and the image coordinates into
/// typed Kubernetes objects: per service a Deployment, Service and ConfigMap (+ Secret when it has secrets);
/// agent tracks with replica counts from the ratio and a PodDisruptionBudget; RolloutApi with its volume,
/// ServiceAccount and a Role limited to what its track driver patches. It writes nothing.
/// </summary>
public sealed partial class KubernetesManifestBuilder(KubernetesPublishOptions options, ContainerImages images)
{
    public const string PartOf = "agentaspire";

    /// <summary>The UID of the non-root <c>app</c> user in the .NET container images.</summary>
    public const long AppUserId = 1654;

    public const string DataMountPath = "/data";
    public const string DatabaseFileName = "rollouts.db";
    public const string TmpMountPath = "/tmp";

    /// <summary>The verbs RolloutApi's track driver needs on Deployments: watch availability, patch the image.</summary>
    public static readonly IReadOnlyList<string> DeploymentVerbs = ["get", "list", "watch", "patch", "update"];

    /// <summary>The verbs it needs on <c>deployments/scale</c>: read and set replica counts.</summary>
    public static readonly IReadOnlyList<string> ScaleVerbs = ["get", "patch", "update"];

    /// <summary>Reads the model in publish mode and builds the manifest from it.</summary>
    public async Task<KubernetesManifest> BuildAsync(
        DistributedApplicationModel model,
        DistributedApplicationExecutionContext executionContext,
        CancellationToken cancellationToken)
    {
        var services = await new AppModelReader(executionContext).ReadAsync(model, cancellationToken);
        return Build(services);
    }

    /// <summary>Builds every object, after checking the images: a refused tag throws before anything is produced.</summary>
    public KubernetesManifest Build(IReadOnlyList<PublishedService> services)
    {
        var problems = images.Problems();
        if (problems.Count > 0)
        {
            throw new KubernetesPublishException(string.Join(Environment.NewLine, problems));
        }

        var manifest = new KubernetesManifest(options.Namespace);
        if (options.CreateNamespace)
        {
            manifest.Add(options.Namespace, BuildNamespace());
        }

        var (stableReplicas, canaryReplicas) = options.SplitAgentReplicas();
        foreach (var service in services)
        {
            if (!DnsLabel().IsMatch(service.Name))
            {
                throw new KubernetesPublishException($"Resource name '{service.Name}' is not a DNS-1123 label, so it cannot name a Service.");
            }

            var isRolloutApi = service.Name == ResourceNames.RolloutApi;
            var replicas = service.Agent?.Track switch
            {
                Tracks.Stable => stableReplicas,
                Tracks.Canary => canaryReplicas,
                // SQLite has one writer: RolloutApi never runs more than one pod.
                _ when isRolloutApi => 1,
                _ => service.Replicas,
            };

            var labels = LabelsFor(service);
            var environment = EnvironmentFor(service, isRolloutApi, services);

            manifest.Add(service.Name, BuildConfigMap(service, labels, environment.Configuration));
            if (environment.Secrets.Count > 0)
            {
                manifest.Add(service.Name, BuildSecret(service, labels, environment.Secrets));
            }

            if (isRolloutApi)
            {
                manifest.Add(service.Name, BuildServiceAccount(service, labels));
                manifest.Add(service.Name, BuildRole(service, labels));
                manifest.Add(service.Name, BuildRoleBinding(service, labels));
                manifest.Add(service.Name, BuildDataVolumeClaim(service, labels));
            }

            if (service.Ports.Count > 0)
            {
                manifest.Add(service.Name, BuildService(service, labels));
            }

            manifest.Add(service.Name, BuildDeployment(service, labels, replicas, environment, isRolloutApi));

            if (service.Agent is not null)
            {
                manifest.Add(service.Name, BuildDisruptionBudget(service, labels));
            }
        }

        return manifest;
    }

    public static string ConfigMapName(string service) => $"{service}-config";

    public static string SecretName(string service) => $"{service}-secrets";

    public static string DataClaimName(string service) => $"{service}-data";

    /// <summary>
    /// The recommended <c>app.kubernetes.io/*</c> labels: both tracks of an agent share a name (the agent) and differ
    /// by instance, version and <c>track</c>; the version is the track's version label, or the image tag.
    /// </summary>
    private Dictionary<string, string> LabelsFor(PublishedService service)
    {
        var version = string.IsNullOrEmpty(service.Agent?.Version) ? images.Tag : service.Agent.Version;
        var labels = new Dictionary<string, string>
        {
            [Labels.Name] = service.Agent?.AgentName ?? service.Name,
            [Labels.Instance] = service.Name,
            [Labels.Component] = service.Agent is not null ? "agent" : service.Name == ResourceNames.RolloutApi ? "control-plane" : service.Name,
            [Labels.PartOf] = PartOf,
            [Labels.Version] = version,
            [Labels.ManagedBy] = "aspire",
        };
        if (service.Agent is not null)
        {
            labels[Labels.Track] = service.Agent.Track;
        }

        foreach (var (key, value) in labels)
        {
            if (!LabelValue().IsMatch(value))
            {
                throw new KubernetesPublishException($"Resource '{service.Name}': label {key}='{value}' is not a valid label value (at most 63 letters, digits, '-', '_', '.').");
            }
        }

        return labels;
    }

    /// <summary>
    /// Pods are selected by instance (one per resource) within the app; the version is left out because it
    /// changes with every revision and a Deployment's selector cannot.
    /// </summary>
    private static Dictionary<string, string> SelectorFor(Dictionary<string, string> labels) => new()
    {
        [Labels.Instance] = labels[Labels.Instance],
        [Labels.PartOf] = labels[Labels.PartOf],
    };

    /// <summary>
    /// The model's environment, plus what only the cluster knows: port, telemetry, RolloutApi's volume and driver.
    /// Plain values go to the ConfigMap and secrets to the Secret, except an agent track's version label: it is
    /// part of the revision, so it sits on the container beside the image, where the track driver's one patch of
    /// the Deployment (it may patch Deployments, not ConfigMaps) changes both and rolls the pods.
    /// </summary>
    private ServiceEnvironment EnvironmentFor(PublishedService service, bool isRolloutApi, IReadOnlyList<PublishedService> services)
    {
        var configuration = new SortedDictionary<string, string>(service.Configuration.ToDictionary(), StringComparer.Ordinal);
        var secrets = new SortedDictionary<string, string>(service.Secrets.ToDictionary(), StringComparer.Ordinal);

        void Set(string name, string value)
        {
            secrets.Remove(name);
            configuration[name] = value;
        }

        if (service.Ports.Count > 0)
        {
            // URLS would override HTTP_PORTS; the container listens on the port the Service targets, nothing else.
            configuration.Remove(EnvironmentNames.AspNetCoreUrls);
            Set(EnvironmentNames.HttpPorts, service.Ports[0].ContainerPort.ToString(CultureInfo.InvariantCulture));
        }

        if (!string.IsNullOrEmpty(options.OtlpEndpoint))
        {
            Set(EnvironmentNames.OtlpEndpoint, options.OtlpEndpoint);
            Set(EnvironmentNames.OtelServiceName, service.Name);
        }

        if (isRolloutApi)
        {
            Set(EnvironmentNames.DatabasePath, $"{DataMountPath}/{DatabaseFileName}");
            Set(EnvironmentNames.TrackDriver, TrackDriverNames.Kubernetes);

            // RolloutApi seeds revision 1 from the stable track: it must name the image the stable Deployment already
            // runs, or the first reconcile would patch stable to a tag nobody pushed.
            foreach (var agent in services.Where(s => s.Agent?.Track == Tracks.Stable))
            {
                var image = images.For(agent.ProjectName);
                Set(ConfigKeys.ToEnvironmentVariable(ConfigKeys.Agents.Image(agent.Agent!.AgentName)), image[..image.LastIndexOf(':')]);
                Set(ConfigKeys.ToEnvironmentVariable(ConfigKeys.Agents.StableImageTag(agent.Agent.AgentName)), images.Tag);
            }
        }

        if (service.Name == ResourceNames.Gateway)
        {
            // A published gateway faces real users: only callers with the forced-track token or a listed client id may
            // pick a track (Gateway:ForcedTrack:Token / ClientIds, set by the operator from a secret).
            Set(EnvironmentNames.GatewayForcedTrackAnonymous, "false");
        }

        var revision = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (service.Agent is not null && configuration.Remove(AgentSettings.Version, out var version))
        {
            revision[AgentSettings.Version] = version;
        }

        return new ServiceEnvironment(configuration, secrets, revision);
    }

    private sealed record ServiceEnvironment(
        SortedDictionary<string, string> Configuration,
        SortedDictionary<string, string> Secrets,
        SortedDictionary<string, string> Revision);

    private V1Namespace BuildNamespace() => New<V1Namespace>(o => o.Metadata = new V1ObjectMeta
    {
        Name = options.Namespace,
        Labels = new Dictionary<string, string>
        {
            [Labels.PartOf] = PartOf,
            // Every pod here meets the "restricted" Pod Security Standard; the namespace refuses any that does not.
            ["pod-security.kubernetes.io/enforce"] = "restricted",
            ["pod-security.kubernetes.io/enforce-version"] = "latest",
        },
    });

    private V1ConfigMap BuildConfigMap(PublishedService service, Dictionary<string, string> labels, IDictionary<string, string> configuration) =>
        New<V1ConfigMap>(o =>
        {
            o.Metadata = Metadata(ConfigMapName(service.Name), labels);
            o.Data = new Dictionary<string, string>(configuration, StringComparer.Ordinal);
        });

    private V1Secret BuildSecret(PublishedService service, Dictionary<string, string> labels, IDictionary<string, string> secrets) =>
        New<V1Secret>(o =>
        {
            o.Metadata = Metadata(SecretName(service.Name), labels);
            o.Type = "Opaque";
            o.StringData = new Dictionary<string, string>(secrets, StringComparer.Ordinal);
        });

    private V1Service BuildService(PublishedService service, Dictionary<string, string> labels) =>
        New<V1Service>(o =>
        {
            o.Metadata = Metadata(service.Name, labels);
            o.Spec = new V1ServiceSpec
            {
                Type = service.IsExternal ? options.GatewayServiceType : KubernetesPublishOptions.ClusterIP,
                Selector = SelectorFor(labels),
                Ports = [.. service.Ports.Select(p => new V1ServicePort
                {
                    Name = p.Name,
                    Port = p.ServicePort,
                    TargetPort = p.Name,
                    Protocol = "TCP",
                    AppProtocol = "http",
                })],
            };
        });

    private V1Deployment BuildDeployment(
        PublishedService service,
        Dictionary<string, string> labels,
        int replicas,
        ServiceEnvironment environment,
        bool isRolloutApi)
    {
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
        if (isRolloutApi)
        {
            volumes.Add(new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = DataClaimName(service.Name) } });
            mounts.Add(new V1VolumeMount { Name = "data", MountPath = DataMountPath });
        }

        var container = new V1Container
        {
            Name = service.Name,
            Image = images.For(service.ProjectName),
            ImagePullPolicy = "IfNotPresent",
            Ports = [.. service.Ports.Select(p => new V1ContainerPort { Name = p.Name, ContainerPort = p.ContainerPort, Protocol = "TCP" })],
            EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = ConfigMapName(service.Name) } }],
            Env = environment.Secrets.Count + environment.Revision.Count > 0
                ?
                [
                    .. environment.Revision.Select(v => new V1EnvVar { Name = v.Key, Value = v.Value }),
                    .. environment.Secrets.Keys.Select(name => new V1EnvVar
                    {
                        Name = name,
                        ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = SecretName(service.Name), Key = name } },
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

        return New<V1Deployment>(o =>
        {
            o.Metadata = Metadata(service.Name, labels);
            o.Spec = new V1DeploymentSpec
            {
                Replicas = replicas,
                RevisionHistoryLimit = 5,
                Selector = new V1LabelSelector { MatchLabels = SelectorFor(labels) },
                Strategy = isRolloutApi
                    // The volume is ReadWriteOnce and SQLite has one writer: the old pod must stop before the new one starts.
                    ? new V1DeploymentStrategy { Type = "Recreate" }
                    : new V1DeploymentStrategy
                    {
                        Type = "RollingUpdate",
                        RollingUpdate = new V1RollingUpdateDeployment { MaxUnavailable = 0, MaxSurge = 1 },
                    },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(labels), Annotations = podAnnotations },
                    Spec = new V1PodSpec
                    {
                        ServiceAccountName = isRolloutApi ? service.Name : null,
                        // Only RolloutApi talks to the API server; other pods get no token to leak.
                        AutomountServiceAccountToken = isRolloutApi,
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

    private static V1Probe HttpProbe(string path, string port, int periodSeconds, int failureThreshold) => new()
    {
        HttpGet = new V1HTTPGetAction { Path = path, Port = port, Scheme = "HTTP" },
        PeriodSeconds = periodSeconds,
        TimeoutSeconds = 2,
        FailureThreshold = failureThreshold,
    };

    /// <summary>Voluntary disruptions (node drains) take agent pods one at a time, whatever a track's size.</summary>
    private V1PodDisruptionBudget BuildDisruptionBudget(PublishedService service, Dictionary<string, string> labels) =>
        New<V1PodDisruptionBudget>(o =>
        {
            o.Metadata = Metadata(service.Name, labels);
            o.Spec = new V1PodDisruptionBudgetSpec
            {
                MaxUnavailable = 1,
                Selector = new V1LabelSelector { MatchLabels = SelectorFor(labels) },
            };
        });

    private V1ServiceAccount BuildServiceAccount(PublishedService service, Dictionary<string, string> labels) =>
        New<V1ServiceAccount>(o =>
        {
            o.Metadata = Metadata(service.Name, labels);
            o.AutomountServiceAccountToken = true;
        });

    /// <summary>
    /// Exactly what the track driver does: read and watch Deployments, patch their image, scale them; in this
    /// namespace only, and nothing on pods, secrets or anything else.
    /// </summary>
    private V1Role BuildRole(PublishedService service, Dictionary<string, string> labels) =>
        New<V1Role>(o =>
        {
            o.Metadata = Metadata(service.Name, labels);
            o.Rules =
            [
                new V1PolicyRule { ApiGroups = ["apps"], Resources = ["deployments"], Verbs = [.. DeploymentVerbs] },
                new V1PolicyRule { ApiGroups = ["apps"], Resources = ["deployments/scale"], Verbs = [.. ScaleVerbs] },
            ];
        });

    private V1RoleBinding BuildRoleBinding(PublishedService service, Dictionary<string, string> labels) =>
        New<V1RoleBinding>(o =>
        {
            o.Metadata = Metadata(service.Name, labels);
            o.RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = V1Role.KubeKind, Name = service.Name };
            o.Subjects = [new Rbacv1Subject { Kind = V1ServiceAccount.KubeKind, Name = service.Name, NamespaceProperty = options.Namespace }];
        });

    private V1PersistentVolumeClaim BuildDataVolumeClaim(PublishedService service, Dictionary<string, string> labels) =>
        New<V1PersistentVolumeClaim>(o =>
        {
            o.Metadata = Metadata(DataClaimName(service.Name), labels);
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

    private V1ObjectMeta Metadata(string name, Dictionary<string, string> labels) => new()
    {
        Name = name,
        NamespaceProperty = options.Namespace,
        Labels = new Dictionary<string, string>(labels),
    };

    /// <summary>A typed object with its apiVersion and kind filled in from the model type's own metadata.</summary>
    private static T New<T>(Action<T> configure)
        where T : IKubernetesObject, new()
    {
        var entity = typeof(T).GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new InvalidOperationException($"{typeof(T).Name} is not a Kubernetes entity.");
        var value = new T
        {
            ApiVersion = string.IsNullOrEmpty(entity.Group) ? entity.ApiVersion : $"{entity.Group}/{entity.ApiVersion}",
            Kind = entity.Kind,
        };
        configure(value);
        return value;
    }

    [GeneratedRegex(KubernetesPublishOptions.DnsLabelPattern)]
    private static partial Regex DnsLabel();

    [GeneratedRegex("^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();

    /// <summary>Label keys, one place.</summary>
    public static class Labels
    {
        public const string Name = "app.kubernetes.io/name";
        public const string Instance = "app.kubernetes.io/instance";
        public const string Component = "app.kubernetes.io/component";
        public const string PartOf = "app.kubernetes.io/part-of";
        public const string Version = "app.kubernetes.io/version";
        public const string ManagedBy = "app.kubernetes.io/managed-by";
        public const string Track = "track";
    }

    /// <summary>Environment variables the publisher sets or overrides.</summary>
    public static class EnvironmentNames
    {
        public const string HttpPorts = "HTTP_PORTS";
        public const string AspNetCoreUrls = "ASPNETCORE_URLS";
        public const string OtlpEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";
        public const string OtelServiceName = "OTEL_SERVICE_NAME";
        public static readonly string DatabasePath = ConfigKeys.ToEnvironmentVariable(ConfigKeys.RolloutApi.DatabasePath);
        public static readonly string TrackDriver = ConfigKeys.ToEnvironmentVariable(ConfigKeys.Drivers.Track);
        public static readonly string GatewayForcedTrackAnonymous = ConfigKeys.ToEnvironmentVariable(ConfigKeys.Gateway.ForcedTrackAllowAnonymous);
    }
}
