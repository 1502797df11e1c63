using System.Text.Json;
using AgentAspire.Contracts;
using AppHost.Kubernetes;
using AppHost.Kubernetes.Manifests;
using k8s.Models;
using static AppHost.Kubernetes.Manifests.ConfigurationManifests;
using static AppHost.Kubernetes.Manifests.DeploymentManifests;
using static AppHost.Kubernetes.Manifests.KubernetesManifestBuilder;
using static AppHost.Kubernetes.Manifests.StorageManifests;

namespace AppHost.Tests.Kubernetes;

/// <summary>The AppHost published once with the default options; each test reads the same output.</summary>
public sealed class DefaultPublishFixture : IAsyncLifetime
{
    public string OutputDirectory { get; } = AppHostPublish.NewOutputDirectory();

    public IReadOnlyList<string> Errors { get; private set; } = [];

    public PublishedManifests Manifests { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Errors = await AppHostPublish.RunAsync(AppHostPublish.Arguments(OutputDirectory));
        Assert.True(Errors.Count == 0, string.Join(Environment.NewLine, Errors));
        Manifests = PublishedManifests.Load(OutputDirectory);
    }

    public Task DisposeAsync()
    {
        if (Directory.Exists(OutputDirectory))
        {
            Directory.Delete(OutputDirectory, recursive: true);
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// <c>--operation publish --step publish</c> on the real AppHost: the manifests it writes, read back strictly
/// with KubernetesClient's typed models and built with <c>kubectl kustomize</c>.
/// </summary>
public sealed class KubernetesPublishTests(DefaultPublishFixture fixture) : IClassFixture<DefaultPublishFixture>
{
    private const string DefaultNamespace = "agentaspire";

    private static readonly string[] ProjectResources =
        [ResourceNames.RolloutApi, ResourceNames.Gateway, ResourceNames.AgentStable, ResourceNames.AgentCanary];

    private PublishedManifests Manifests => fixture.Manifests;

    [Fact]
    public void EveryWrittenFileIsListedInTheKustomizationAndEveryListedFileExists()
    {
        var written = Directory.GetFiles(fixture.OutputDirectory).Select(Path.GetFileName).Where(f => f != KubernetesManifest.KustomizationFileName);

        Assert.Equal(written.Order(StringComparer.Ordinal), Manifests.Kustomization.Resources.Order(StringComparer.Ordinal));
        Assert.Equal(DefaultNamespace, Manifests.Kustomization.Namespace);
    }

    [Fact]
    public void EachServiceGetsADeploymentAServiceAndAConfigMapAndTheNamespaceIsCreated()
    {
        foreach (var name in ProjectResources)
        {
            Manifests.Single<V1Deployment>(name);
            Manifests.Single<V1Service>(name);
            Manifests.Single<V1ConfigMap>(ConfigMapName(name));
        }

        Assert.Equal(ProjectResources.Order(), Manifests.All<V1Deployment>().Select(d => d.Metadata.Name).Order());
        var ns = Assert.Single(Manifests.All<V1Namespace>());
        Assert.Equal("restricted", ns.Metadata.Labels["pod-security.kubernetes.io/enforce"]);
    }

    [Fact]
    public void TheOutputIsByteForByteTheStoredOne() => GoldenManifests.AssertMatches("default", fixture.OutputDirectory);

    [Fact]
    public void ManifestsAreWellFormedAndEveryReferenceResolves() => Manifests.AssertWellFormed(DefaultNamespace);

    [Fact]
    public async Task KubectlKustomizeBuildsTheDirectory()
    {
        var (exitCode, output) = await AppHostPublish.RunProcessAsync("kubectl", ["kustomize", fixture.OutputDirectory]);

        Assert.True(exitCode == 0, output);
        Assert.Equal(Manifests.ObjectsByFile.Count, output.Split("\n---\n").Length);
        Assert.Contains("kind: RoleBinding", output);
    }

    [Fact]
    public void ProbesCheckAliveForLivenessAndHealthForReadinessAndStartup()
    {
        Assert.Equal(ProjectResources.Length, Manifests.Containers.Count());
        Assert.All(Manifests.Containers, c =>
        {
            Assert.Equal(HealthPaths.Alive, c.LivenessProbe.HttpGet.Path);
            Assert.Equal(HealthPaths.Health, c.ReadinessProbe.HttpGet.Path);
            Assert.Equal(HealthPaths.Health, c.StartupProbe.HttpGet.Path);
            Assert.Equal("http", c.LivenessProbe.HttpGet.Port.Value);
        });
    }

    [Fact]
    public void PodsRunAsTheNonRootAppUserWithAReadOnlyRootFilesystemAndNoCapabilities()
    {
        Assert.All(Manifests.All<V1Deployment>(), d =>
        {
            var pod = d.Spec.Template.Spec;
            Assert.True(pod.SecurityContext.RunAsNonRoot);
            Assert.Equal(AppUserId, pod.SecurityContext.RunAsUser);
            Assert.Equal("RuntimeDefault", pod.SecurityContext.SeccompProfile.Type);
            Assert.Equal(d.Metadata.Name == ResourceNames.RolloutApi, pod.AutomountServiceAccountToken);
            Assert.Contains(pod.Volumes, v => v.Name == "tmp" && v.EmptyDir is not null);

            var container = Assert.Single(pod.Containers);
            var security = container.SecurityContext;
            Assert.True(security.RunAsNonRoot);
            Assert.Equal(AppUserId, security.RunAsUser);
            Assert.True(security.ReadOnlyRootFilesystem);
            Assert.False(security.AllowPrivilegeEscalation);
            Assert.Equal(["ALL"], security.Capabilities.Drop);
            Assert.Null(security.Capabilities.Add);
            Assert.Equal("RuntimeDefault", security.SeccompProfile.Type);
            Assert.Contains(container.VolumeMounts, m => m.MountPath == TmpMountPath);
            Assert.NotEmpty(container.Resources.Requests);
            Assert.NotEmpty(container.Resources.Limits);
        });
    }

    [Fact]
    public void PodsAreAnnotatedForPrometheusAndListenOnTheContainerPort()
    {
        Assert.All(Manifests.All<V1Deployment>(), d =>
        {
            var annotations = d.Spec.Template.Metadata.Annotations;
            Assert.Equal("true", annotations["prometheus.io/scrape"]);
            Assert.Equal("8080", annotations["prometheus.io/port"]);
            Assert.Equal("/metrics", annotations["prometheus.io/path"]);
            Assert.Equal(8080, Assert.Single(Assert.Single(d.Spec.Template.Spec.Containers).Ports).ContainerPort);
            Assert.Equal("8080", Manifests.Single<V1ConfigMap>(ConfigMapName(d.Metadata.Name)).Data[EnvironmentNames.HttpPorts]);
            Assert.DoesNotContain(EnvironmentNames.AspNetCoreUrls, Manifests.Single<V1ConfigMap>(ConfigMapName(d.Metadata.Name)).Data.Keys);
        });
    }

    [Fact]
    public void SecretParameterValuesAppearOnlyInSecretsAndReachTheirServicesThroughSecretKeyRefs()
    {
        string[] secretValues = [AppHostPublish.OperatorKey, AppHostPublish.ViewerKey];

        var configMapValues = Manifests.All<V1ConfigMap>().SelectMany(c => c.Data.Values);
        var literalEnvValues = Manifests.Containers.SelectMany(c => c.Env ?? []).Select(e => e.Value).OfType<string>();
        Assert.All(configMapValues.Concat(literalEnvValues), value => Assert.DoesNotContain(secretValues, value.Contains));
        var notSecrets = Manifests.ObjectsByFile.Values.Where(o => o is not V1Secret).Select(o => JsonSerializer.Serialize(o, o.GetType()));
        Assert.All(notSecrets, json => Assert.DoesNotContain(secretValues, json.Contains));

        var rolloutApiSecret = Manifests.Single<V1Secret>(SecretName(ResourceNames.RolloutApi)).StringData;
        Assert.Equal(AppHostPublish.OperatorKey, rolloutApiSecret["Auth__ApiKeys__operator__Key"]);
        Assert.Equal(AppHostPublish.ViewerKey, rolloutApiSecret["Auth__ApiKeys__viewer__Key"]);
        Assert.Equal(AppHostPublish.ViewerKey, Manifests.Single<V1Secret>(SecretName(ResourceNames.Gateway)).StringData["Gateway__ApiKey"]);

        var operatorKey = Assert.Single(Manifests.ContainerOf(ResourceNames.RolloutApi).Env, e => e.Name == "Auth__ApiKeys__operator__Key");
        Assert.Null(operatorKey.Value);
        Assert.Equal(SecretName(ResourceNames.RolloutApi), operatorKey.ValueFrom.SecretKeyRef.Name);
        Assert.Equal("operator", Manifests.Single<V1ConfigMap>(ConfigMapName(ResourceNames.RolloutApi)).Data["Auth__ApiKeys__operator__Role"]);
    }

    [Fact]
    public void RolloutApiSeedsRevisionOneWithTheImageTheStableDeploymentRuns()
    {
        var config = Manifests.Single<V1ConfigMap>(ConfigMapName(ResourceNames.RolloutApi)).Data;
        var stableImage = Manifests.ContainerOf(ResourceNames.AgentStable).Image;

        Assert.Equal(stableImage, $"{config[$"Agents__{ResourceNames.DefaultAgent}__Image"]}:{config[$"Agents__{ResourceNames.DefaultAgent}__Stable__ImageTag"]}");
    }

    [Fact]
    public void ImagesComeFromTheRegistryAndTagParametersAndNeverUseLatest()
    {
        Assert.Equal($"{AppHostPublish.Registry}/rolloutapi:{AppHostPublish.Tag}", Manifests.ContainerOf(ResourceNames.RolloutApi).Image);
        Assert.Equal($"{AppHostPublish.Registry}/gateway:{AppHostPublish.Tag}", Manifests.ContainerOf(ResourceNames.Gateway).Image);
        Assert.Equal($"{AppHostPublish.Registry}/agentworker:{AppHostPublish.Tag}", Manifests.ContainerOf(ResourceNames.AgentStable).Image);
        Assert.Equal($"{AppHostPublish.Registry}/agentworker:{AppHostPublish.Tag}", Manifests.ContainerOf(ResourceNames.AgentCanary).Image);
        Assert.All(Directory.GetFiles(fixture.OutputDirectory), f => Assert.DoesNotContain(":latest", File.ReadAllText(f)));
    }

    [Fact]
    public void RolloutApiRoleGrantsExactlyWhatTheTrackDriverPatchesInItsNamespace()
    {
        var role = Assert.Single(Manifests.All<V1Role>());
        Assert.Empty(Manifests.All<V1ClusterRole>());
        Assert.Empty(Manifests.All<V1ClusterRoleBinding>());
        Assert.Equal(DefaultNamespace, role.Metadata.NamespaceProperty);
        Assert.Collection(
            role.Rules,
            deployments =>
            {
                Assert.Equal(["apps"], deployments.ApiGroups);
                Assert.Equal(["deployments"], deployments.Resources);
                Assert.Equal(["get", "list", "watch", "patch", "update"], deployments.Verbs);
                Assert.Null(deployments.ResourceNames);
            },
            scale =>
            {
                Assert.Equal(["apps"], scale.ApiGroups);
                Assert.Equal(["deployments/scale"], scale.Resources);
                Assert.Equal(["get", "patch", "update"], scale.Verbs);
            });

        var binding = Assert.Single(Manifests.All<V1RoleBinding>());
        Assert.Equal(role.Metadata.Name, binding.RoleRef.Name);
        var subject = Assert.Single(binding.Subjects);
        Assert.Equal(ResourceNames.RolloutApi, subject.Name);
        Assert.Equal(ResourceNames.RolloutApi, Manifests.Single<V1Deployment>(ResourceNames.RolloutApi).Spec.Template.Spec.ServiceAccountName);
    }

    [Fact]
    public void RolloutApiRunsOnePodRecreatedWithItsDatabaseOnAPersistentVolumeAndTheKubernetesDriver()
    {
        var deployment = Manifests.Single<V1Deployment>(ResourceNames.RolloutApi);
        Assert.Equal(1, deployment.Spec.Replicas);
        Assert.Equal("Recreate", deployment.Spec.Strategy.Type);

        var claim = Manifests.Single<V1PersistentVolumeClaim>(DataClaimName(ResourceNames.RolloutApi));
        Assert.Equal(["ReadWriteOnce"], claim.Spec.AccessModes);
        Assert.Equal(new ResourceQuantity("1Gi"), claim.Spec.Resources.Requests["storage"]);
        var volume = Assert.Single(deployment.Spec.Template.Spec.Volumes, v => v.PersistentVolumeClaim is not null);
        Assert.Equal(claim.Metadata.Name, volume.PersistentVolumeClaim.ClaimName);
        var mount = Assert.Single(Manifests.ContainerOf(ResourceNames.RolloutApi).VolumeMounts, m => m.Name == volume.Name);

        var configuration = Manifests.Single<V1ConfigMap>(ConfigMapName(ResourceNames.RolloutApi)).Data;
        Assert.StartsWith(mount.MountPath + "/", configuration[EnvironmentNames.DatabasePath]);
        Assert.Equal("kubernetes", configuration[EnvironmentNames.TrackDriver]);
        Assert.Equal(AppUserId, deployment.Spec.Template.Spec.SecurityContext.FsGroup);
    }

    [Fact]
    public void AgentTracksAreTwoLabelledDeploymentsSplittingTenReplicasNineToOneWithDisruptionBudgets()
    {
        var stable = Manifests.Single<V1Deployment>(ResourceNames.AgentStable);
        var canary = Manifests.Single<V1Deployment>(ResourceNames.AgentCanary);
        Assert.Equal(9, stable.Spec.Replicas);
        Assert.Equal(1, canary.Spec.Replicas);

        foreach (var (deployment, track, version) in new[] { (stable, Tracks.Stable, "1.0.0"), (canary, Tracks.Canary, "1.1.0") })
        {
            var labels = deployment.Spec.Template.Metadata.Labels;
            Assert.Equal(ResourceNames.DefaultAgent, labels[Labels.Name]);
            Assert.Equal(PartOf, labels[Labels.PartOf]);
            Assert.Equal("agent", labels[Labels.Component]);
            Assert.Equal(version, labels[Labels.Version]);
            Assert.Equal(track, labels[Labels.Track]);
            Assert.Equal(labels, deployment.Metadata.Labels);

            // The version label travels with the image in the Deployment, where the track driver patches it.
            Assert.Equal(version, Assert.Single(Manifests.ContainerOf(deployment.Metadata.Name).Env, e => e.Name == AgentVariables.Version).Value);
            Assert.Equal(track, Manifests.Single<V1ConfigMap>(ConfigMapName(deployment.Metadata.Name)).Data[AgentVariables.Track]);

            var budget = Manifests.Single<V1PodDisruptionBudget>(deployment.Metadata.Name);
            Assert.True(PublishedManifests.Selects(budget.Spec.Selector.MatchLabels, deployment));
            Assert.False(PublishedManifests.Selects(budget.Spec.Selector.MatchLabels, deployment == stable ? canary : stable));
        }
    }

    [Fact]
    public void ReferencesBecomeClusterDnsNamesAndHttpsReferencesAreDropped()
    {
        var gateway = Manifests.Single<V1ConfigMap>(ConfigMapName(ResourceNames.Gateway)).Data;
        Assert.Equal("http://agent-stable:80", gateway["services__agent-stable__http__0"]);
        Assert.Equal("http://agent-canary:80", gateway["services__agent-canary__http__0"]);
        Assert.Equal("http://rollout-api:80", gateway["services__rollout-api__http__0"]);
        Assert.DoesNotContain(gateway.Keys, k => k.Contains("https", StringComparison.OrdinalIgnoreCase));
        Assert.Equal("http://rollout-api:80", Manifests.Single<V1ConfigMap>(ConfigMapName(ResourceNames.AgentCanary)).Data["services__rollout-api__http__0"]);

        Assert.All(ProjectResources, name =>
        {
            var port = Assert.Single(Manifests.Single<V1Service>(name).Spec.Ports);
            Assert.Equal(80, port.Port);
            Assert.Equal("http", port.TargetPort.Value);
        });
    }

    [Fact]
    public void TelemetryGoesToTheDefaultCollectorAndTheGatewayServiceIsClusterIP()
    {
        Assert.All(ProjectResources, name =>
        {
            var configuration = Manifests.Single<V1ConfigMap>(ConfigMapName(name)).Data;
            Assert.Equal("http://otel-collector:4317", configuration[EnvironmentNames.OtlpEndpoint]);
            Assert.Equal(name, configuration[EnvironmentNames.OtelServiceName]);
        });
        Assert.All(Manifests.All<V1Service>(), s => Assert.Equal("ClusterIP", s.Spec.Type));
    }
}
