using System.Reflection;
using System.Text.RegularExpressions;
using AppHost.Kubernetes.Manifests;
using k8s;
using k8s.Models;

namespace AppHost.Tests.Kubernetes;

/// <summary>
/// A publish output directory read back the strict way: every file must hold exactly one document that
/// <see cref="KubernetesYaml"/> deserialises, in strict mode (unknown fields fail), into the typed model its
/// apiVersion and kind name.
/// </summary>
public sealed partial class PublishedManifests
{
    private PublishedManifests(string directory, IReadOnlyDictionary<string, IKubernetesObject> objects, Kustomization kustomization)
    {
        Directory = directory;
        ObjectsByFile = objects;
        Kustomization = kustomization;
    }

    public string Directory { get; }

    public IReadOnlyDictionary<string, IKubernetesObject> ObjectsByFile { get; }

    public Kustomization Kustomization { get; }

    public static PublishedManifests Load(string directory)
    {
        var objects = new Dictionary<string, IKubernetesObject>();
        foreach (var path in System.IO.Directory.GetFiles(directory).Order(StringComparer.Ordinal))
        {
            var fileName = Path.GetFileName(path);
            if (fileName == KubernetesManifest.KustomizationFileName)
            {
                continue;
            }

            Assert.EndsWith(".yaml", fileName);
            var documents = KubernetesYaml.LoadAllFromString(File.ReadAllText(path), typeMap: null, strict: true);
            var document = Assert.Single(documents);
            objects[fileName] = Assert.IsAssignableFrom<IKubernetesObject>(document);
        }

        var kustomization = KubernetesYaml.Deserialize<Kustomization>(
            File.ReadAllText(Path.Combine(directory, KubernetesManifest.KustomizationFileName)), strict: true);
        return new PublishedManifests(directory, objects, kustomization);
    }

    public IEnumerable<T> All<T>() => ObjectsByFile.Values.OfType<T>();

    public T Single<T>(string name)
        where T : IKubernetesObject<V1ObjectMeta> =>
        Assert.Single(All<T>(), o => o.Metadata.Name == name);

    public IEnumerable<V1Container> Containers => All<V1Deployment>().SelectMany(d => d.Spec.Template.Spec.Containers);

    public V1Container ContainerOf(string deployment) => Assert.Single(Single<V1Deployment>(deployment).Spec.Template.Spec.Containers);

    /// <summary>
    /// What the API server would refuse or what would break at run time, checked without a cluster: names,
    /// type metadata, label values, and that every reference (selector, ConfigMap, Secret key, volume, claim,
    /// ServiceAccount, Role, named port) points at something that exists. KubernetesClient 21's models carry no
    /// <c>Validate()</c>; this is the stand-in.
    /// </summary>
    public void AssertWellFormed(string expectedNamespace)
    {
        foreach (var (file, value) in ObjectsByFile)
        {
            var entity = value.GetType().GetCustomAttribute<KubernetesEntityAttribute>();
            Assert.NotNull(entity);
            Assert.Equal(string.IsNullOrEmpty(entity.Group) ? entity.ApiVersion : $"{entity.Group}/{entity.ApiVersion}", value.ApiVersion);
            Assert.Equal(entity.Kind, value.Kind);

            var metadata = Assert.IsAssignableFrom<IMetadata<V1ObjectMeta>>(value).Metadata;
            Assert.Matches(DnsSubdomain(), metadata.Name);
            if (value is V1Namespace)
            {
                Assert.Equal(expectedNamespace, metadata.Name);
            }
            else
            {
                Assert.Equal(expectedNamespace, metadata.NamespaceProperty);
            }

            foreach (var (key, labelValue) in metadata.Labels ?? new Dictionary<string, string>())
            {
                Assert.True(LabelValue().IsMatch(labelValue), $"{file}: label {key}='{labelValue}' is not a valid label value.");
            }
        }

        foreach (var deployment in All<V1Deployment>())
        {
            AssertDeploymentIsConsistent(deployment);
        }

        foreach (var service in All<V1Service>())
        {
            Assert.Matches(DnsLabel(), service.Metadata.Name);
            var target = Assert.Single(All<V1Deployment>(), d => Selects(service.Spec.Selector, d));
            var containerPorts = target.Spec.Template.Spec.Containers.SelectMany(c => c.Ports ?? []).Select(p => p.Name).ToHashSet();
            Assert.All(service.Spec.Ports, p =>
            {
                Assert.InRange(p.Port, 1, 65535);
                Assert.Contains(p.TargetPort.Value, containerPorts);
            });
        }

        foreach (var budget in All<V1PodDisruptionBudget>())
        {
            Assert.True((budget.Spec.MinAvailable is null) ^ (budget.Spec.MaxUnavailable is null), "A PodDisruptionBudget sets exactly one of minAvailable and maxUnavailable.");
            Assert.Single(All<V1Deployment>(), d => Selects(budget.Spec.Selector.MatchLabels, d));
        }

        foreach (var binding in All<V1RoleBinding>())
        {
            Assert.Equal(V1Role.KubeKind, binding.RoleRef.Kind);
            Single<V1Role>(binding.RoleRef.Name);
            Assert.All(binding.Subjects, s =>
            {
                Assert.Equal(V1ServiceAccount.KubeKind, s.Kind);
                Assert.Equal(expectedNamespace, s.NamespaceProperty);
                Single<V1ServiceAccount>(s.Name);
            });
        }

        foreach (var claim in All<V1PersistentVolumeClaim>())
        {
            Assert.True((decimal)claim.Spec.Resources.Requests["storage"] > 0);
        }
    }

    private void AssertDeploymentIsConsistent(V1Deployment deployment)
    {
        var spec = deployment.Spec;
        var pod = spec.Template.Spec;
        Assert.True(Selects(spec.Selector.MatchLabels, deployment), $"{deployment.Metadata.Name}: the selector must match the pod template's labels.");
        Assert.NotEmpty(pod.Containers);
        var volumes = (pod.Volumes ?? []).ToDictionary(v => v.Name);
        foreach (var claim in volumes.Values.Where(v => v.PersistentVolumeClaim is not null))
        {
            Single<V1PersistentVolumeClaim>(claim.PersistentVolumeClaim.ClaimName);
        }

        if (pod.ServiceAccountName is not null)
        {
            Single<V1ServiceAccount>(pod.ServiceAccountName);
        }

        foreach (var container in pod.Containers)
        {
            Assert.Matches(DnsLabel(), container.Name);
            Assert.False(string.IsNullOrWhiteSpace(container.Image));
            var portNames = (container.Ports ?? []).Select(p => p.Name).ToHashSet();
            Assert.All(container.Ports ?? [], p =>
            {
                Assert.InRange(p.ContainerPort, 1, 65535);
                Assert.InRange(p.Name.Length, 1, 15);
            });
            foreach (var probe in new[] { container.LivenessProbe, container.ReadinessProbe, container.StartupProbe }.Where(p => p is not null))
            {
                Assert.Contains(probe.HttpGet.Port.Value, portNames);
            }

            foreach (var source in container.EnvFrom ?? [])
            {
                Single<V1ConfigMap>(source.ConfigMapRef.Name);
            }

            foreach (var variable in container.Env ?? [])
            {
                Assert.Matches(EnvironmentVariableName(), variable.Name);
                if (variable.ValueFrom?.SecretKeyRef is { } secretKey)
                {
                    Assert.Contains(secretKey.Key, Single<V1Secret>(secretKey.Name).StringData.Keys);
                }
            }

            Assert.All(container.VolumeMounts ?? [], m => Assert.Contains(m.Name, volumes.Keys));
            Assert.All(container.Resources.Requests.Concat(container.Resources.Limits), q => Assert.True((decimal)q.Value > 0));
        }

        foreach (var configMap in All<V1ConfigMap>())
        {
            Assert.All(configMap.Data.Keys, key => Assert.Matches(ConfigMapKey(), key));
        }
    }

    /// <summary>Whether a selector selects the Deployment's pods.</summary>
    public static bool Selects(IDictionary<string, string> selector, V1Deployment deployment) =>
        selector.All(s => deployment.Spec.Template.Metadata.Labels.TryGetValue(s.Key, out var value) && value == s.Value);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex("^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();

    [GeneratedRegex("^[-._a-zA-Z][-._a-zA-Z0-9]*$")]
    private static partial Regex EnvironmentVariableName();

    [GeneratedRegex("^[-._a-zA-Z0-9]+$")]
    private static partial Regex ConfigMapKey();
}
