using AgentAspire.Contracts;
using AppHost.Kubernetes;
using AppHost.Kubernetes.Manifests;
using k8s.Models;
using static AppHost.Kubernetes.Manifests.ConfigurationManifests;
using static AppHost.Kubernetes.Manifests.DeploymentManifests;
using static AppHost.Kubernetes.Manifests.KubernetesManifestBuilder;
using static AppHost.Kubernetes.Manifests.StorageManifests;

namespace AppHost.Tests.Kubernetes;

/// <summary>Publishes with non-default settings, and publishes that must be refused without writing a file.</summary>
public sealed class KubernetesPublishSettingsTests : IDisposable
{
    private readonly string _outputDirectory = AppHostPublish.NewOutputDirectory();

    public void Dispose()
    {
        if (Directory.Exists(_outputDirectory))
        {
            Directory.Delete(_outputDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task KubernetesConfigurationSectionShapesTheManifests()
    {
        var errors = await AppHostPublish.RunAsync(AppHostPublish.Arguments(_outputDirectory, extra:
        [
            "--Kubernetes:Namespace=agents",
            "--Kubernetes:GatewayServiceType=LoadBalancer",
            "--Kubernetes:AgentReplicas=20",
            "--Kubernetes:OtlpEndpoint=http://collector.observability:4317",
            "--Kubernetes:StorageClassName=fast-ssd",
            "--Kubernetes:StorageSize=5Gi",
        ]));

        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
        var manifests = PublishedManifests.Load(_outputDirectory);
        manifests.AssertWellFormed("agents");
        Assert.Equal("agents", manifests.Kustomization.Namespace);
        Assert.Equal("LoadBalancer", manifests.Single<V1Service>(ResourceNames.Gateway).Spec.Type);
        Assert.Equal("ClusterIP", manifests.Single<V1Service>(ResourceNames.RolloutApi).Spec.Type);
        Assert.Equal(18, manifests.Single<V1Deployment>(ResourceNames.AgentStable).Spec.Replicas);
        Assert.Equal(2, manifests.Single<V1Deployment>(ResourceNames.AgentCanary).Spec.Replicas);
        Assert.Equal("http://collector.observability:4317", manifests.Single<V1ConfigMap>(ConfigMapName(ResourceNames.Gateway)).Data[EnvironmentNames.OtlpEndpoint]);
        // A published gateway: no forced tracks for anonymous callers (the token and client ids are the operator's).
        Assert.Equal("false", manifests.Single<V1ConfigMap>(ConfigMapName(ResourceNames.Gateway)).Data[EnvironmentNames.GatewayForcedTrackAnonymous]);
        Assert.DoesNotContain(EnvironmentNames.GatewayForcedTrackAnonymous, manifests.Single<V1ConfigMap>(ConfigMapName(ResourceNames.RolloutApi)).Data.Keys);
        var claim = manifests.Single<V1PersistentVolumeClaim>(DataClaimName(ResourceNames.RolloutApi));
        Assert.Equal("fast-ssd", claim.Spec.StorageClassName);
        Assert.Equal(new ResourceQuantity("5Gi"), claim.Spec.Resources.Requests["storage"]);
        GoldenManifests.AssertMatches("settings", _outputDirectory);
    }

    [Theory]
    [InlineData("latest", "mutable")]
    [InlineData("Latest", "mutable")]
    [InlineData("1.4.2+build", "not a valid tag")]
    public async Task MutableOrInvalidImageTagFailsThePublishAndWritesNothing(string tag, string reason)
    {
        var errors = await AppHostPublish.RunAsync(AppHostPublish.Arguments(_outputDirectory, tag));

        Assert.Contains(errors, e => e.Contains($"image tag '{tag}'", StringComparison.Ordinal) && e.Contains(reason, StringComparison.Ordinal));
        Assert.False(Directory.Exists(_outputDirectory), "A refused publish must not create the output directory.");
    }

    [Fact]
    public async Task InvalidOptionFailsThePublishWithItsMessageAndWritesNothing()
    {
        var errors = await AppHostPublish.RunAsync(AppHostPublish.Arguments(_outputDirectory, extra: ["--Kubernetes:GatewayServiceType=Ingress"]));

        Assert.Contains(errors, e => e.Contains("Kubernetes:GatewayServiceType must be ClusterIP, LoadBalancer or NodePort, not 'Ingress'", StringComparison.Ordinal));
        Assert.False(Directory.Exists(_outputDirectory));
    }

    /// <summary>
    /// The command users and CI run: <c>dotnet run</c> exits 0 when an Aspire pipeline step fails, so the
    /// publisher sets the exit code itself; only a separate process can show it.
    /// </summary>
    [Fact]
    public async Task AppHostProcessExitsNonZeroWithTheReasonWhenTheTagIsLatest()
    {
        var appHost = Path.Combine(AppContext.BaseDirectory, "AppHost.dll");

        var (exitCode, output) = await AppHostPublish.RunProcessAsync("dotnet", [appHost, .. AppHostPublish.Arguments(_outputDirectory, "latest")]);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("The image tag 'latest' is mutable", output);
        Assert.False(Directory.Exists(_outputDirectory));
    }
}
