using AppHost.Kubernetes;
using Microsoft.Extensions.Configuration;

namespace AppHost.Tests.Kubernetes;

/// <summary>The publish settings on their own: replica split, option validation, image coordinates.</summary>
public sealed class KubernetesPublishOptionsTests
{
    [Theory]
    [InlineData(10, 9, 1, 9, 1)]
    [InlineData(20, 9, 1, 18, 2)]
    [InlineData(15, 9, 1, 13, 2)] // 1.5 canaries round half away from zero.
    [InlineData(3, 9, 1, 2, 1)] // 0.3 would round to none: a canary with a share keeps one pod.
    [InlineData(2, 99, 1, 1, 1)]
    [InlineData(10, 1, 1, 5, 5)]
    [InlineData(4, 1, 99, 1, 3)] // nor does the stable track lose its last pod.
    [InlineData(5, 1, 0, 5, 0)]
    [InlineData(5, 0, 1, 0, 5)]
    public void AgentReplicasSplitByTheRatio(int total, int stableRatio, int canaryRatio, int stable, int canary)
    {
        var options = new KubernetesPublishOptions { AgentReplicas = total, StableReplicaRatio = stableRatio, CanaryReplicaRatio = canaryRatio };

        Assert.Equal((stable, canary), options.SplitAgentReplicas());
        Assert.True(new KubernetesPublishOptionsValidator().Validate(null, options).Succeeded);
    }

    [Theory]
    [InlineData(nameof(KubernetesPublishOptions.GatewayServiceType), "Ingress", "GatewayServiceType must be ClusterIP, LoadBalancer or NodePort")]
    [InlineData(nameof(KubernetesPublishOptions.Namespace), "Agents_Prod", "Kubernetes:Namespace must be a DNS-1123 label")]
    [InlineData(nameof(KubernetesPublishOptions.Namespace), "", "Namespace")]
    [InlineData(nameof(KubernetesPublishOptions.MemoryLimit), "lots", "Kubernetes:MemoryLimit 'lots' is not a Kubernetes quantity")]
    [InlineData(nameof(KubernetesPublishOptions.StorageSize), "1 GB", "Kubernetes:StorageSize '1 GB' is not a Kubernetes quantity")]
    [InlineData(nameof(KubernetesPublishOptions.OtlpEndpoint), "not a uri", "Kubernetes:OtlpEndpoint")]
    [InlineData(nameof(KubernetesPublishOptions.CanaryReplicaRatio), "0", "cannot both be 0")]
    [InlineData(nameof(KubernetesPublishOptions.AgentReplicas), "1", "AgentReplicas must be at least 2")]
    public void InvalidOptionsAreReportedByName(string property, string value, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [property] = value,
            [nameof(KubernetesPublishOptions.StableReplicaRatio)] = property == nameof(KubernetesPublishOptions.CanaryReplicaRatio) ? "0" : "9",
        }).Build();
        var options = configuration.Get<KubernetesPublishOptions>()!;

        var result = new KubernetesPublishOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures, f => f.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void DefaultOptionsAreValid()
    {
        var options = new KubernetesPublishOptions();

        Assert.True(new KubernetesPublishOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(("agentaspire", "ClusterIP", 10), (options.Namespace, options.GatewayServiceType, options.AgentReplicas));
    }

    [Theory]
    [InlineData("agentaspire", "1.4.2")]
    [InlineData("registry.example.com:5000/team/agentaspire", "v2_rc.1-abc")]
    public void ValidImagesNameEachProjectLowercase(string registry, string tag)
    {
        var images = new ContainerImages(registry, tag);

        Assert.Empty(images.Problems());
        Assert.Equal($"{registry}/agentworker:{tag}", images.For("AgentWorker"));
    }

    [Theory]
    [InlineData("agentaspire", "latest", "is mutable")]
    [InlineData("agentaspire", "LATEST", "is mutable")]
    [InlineData("agentaspire", "", "The image tag is empty")]
    [InlineData("agentaspire", "  ", "The image tag is empty")]
    [InlineData("agentaspire", "-1.0", "not a valid tag")]
    [InlineData("https://registry.example.com", "1.0", "not a valid repository prefix")]
    [InlineData("Registry.Example.com", "1.0", "not a valid repository prefix")]
    [InlineData("", "1.0", "The image registry is empty")]
    public void InvalidImagesAreRefusedWithTheReason(string registry, string tag, string expected)
    {
        var problem = Assert.Single(new ContainerImages(registry, tag).Problems());

        Assert.Contains(expected, problem);
    }

    [Fact]
    public void AnImageParameterGivenOnTheCommandLineCannotBeSilentlyReplacedByRememberedState()
    {
        var configuration = new ConfigurationBuilder().AddCommandLine(["--Parameters:image-tag=3.0.0"]).Build();

        var error = Assert.Throws<KubernetesPublishException>(() => KubernetesPublishStep.EnsureNotShadowed(configuration, "image-tag", "2.3.4"));

        Assert.Contains("--clear-cache true", error.Message);
        KubernetesPublishStep.EnsureNotShadowed(configuration, "image-tag", "3.0.0");
        KubernetesPublishStep.EnsureNotShadowed(configuration, "image-registry", "agentaspire");
    }
}
