using k8s;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RolloutApi.Drivers;
using RolloutApi.Drivers.Local;
using RolloutApi.Drivers.Kubernetes;

namespace RolloutApi.Tests.Drivers.Kubernetes;

/// <summary><c>AddKubernetesTrackDriver</c>: options, validation at start, and a client that is only built when used.</summary>
public sealed class KubernetesTrackDriverRegistrationTests : IDisposable
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(20);

    private readonly string _directory = Directory.CreateTempSubdirectory("kubedriver-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Registering_the_driver_costs_nothing_when_the_local_driver_is_selected()
    {
        using var provider = Build(new()
        {
            ["Drivers:Kubernetes:KubeConfigPath"] = Path.Combine(_directory, "missing-kubeconfig"),
        });

        provider.GetRequiredService<IStartupValidator>().Validate();
        Assert.Equal(LocalTrackDriver.DriverName, provider.GetRequiredService<SelectedTrackDriver>().Driver.Name);
        Assert.Contains(provider.GetServices<ITrackDriver>(), d => d.Name == KubernetesTrackDriver.DriverName);

        // Only now, when something asks for the client, does the missing kubeconfig matter, and it says so.
        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IKubernetes>());
        Assert.Contains("missing-kubeconfig", error.Message, StringComparison.Ordinal);
        Assert.Contains("Drivers:Kubernetes:KubeConfigPath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void With_KUBERNETES_SERVICE_HOST_set_the_in_cluster_configuration_is_used()
    {
        using var provider = Build(new() { ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1" });

        // There is no service account token on this machine, so loading the in-cluster configuration fails, clearly.
        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IKubernetes>());
        Assert.Contains("KUBERNETES_SERVICE_HOST is set, so the Kubernetes track driver uses the in-cluster configuration", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_match_the_published_manifests()
    {
        using var provider = Build([]);

        var options = provider.GetRequiredService<IOptions<KubernetesTrackDriverOptions>>().Value;

        Assert.Equal("default", options.Namespace); // no in-cluster namespace file here
        Assert.Equal("agent-{track}", options.DeploymentNameFormat);
        Assert.Null(options.Container);
        Assert.Null(options.ImageRepository);
        Assert.Equal("Agent__Version", options.VersionEnvironmentVariable);
        Assert.Equal(TimeSpan.FromMinutes(5), options.AvailabilityTimeout);
        Assert.Equal(KubernetesTrackMode.Gateway, options.Mode);
        Assert.Equal(10, options.TotalReplicas);
    }

    [Fact]
    public void Options_bind_from_the_Drivers_Kubernetes_section()
    {
        using var provider = Build(new()
        {
            ["Drivers:Kubernetes:Namespace"] = "agents",
            ["Drivers:Kubernetes:DeploymentNameFormat"] = "{agent}-{track}",
            ["Drivers:Kubernetes:Container"] = "worker",
            ["Drivers:Kubernetes:ImageRepository"] = "registry.example.com/agentaspire/agentworker",
            ["Drivers:Kubernetes:AvailabilityTimeout"] = "00:02:00",
            ["Drivers:Kubernetes:Mode"] = "replicaRatio",
            ["Drivers:Kubernetes:TotalReplicas"] = "20",
        });

        provider.GetRequiredService<IStartupValidator>().Validate();
        var options = provider.GetRequiredService<IOptions<KubernetesTrackDriverOptions>>().Value;
        Assert.Equal(
            ("agents", "{agent}-{track}", "worker", "registry.example.com/agentaspire/agentworker", TimeSpan.FromMinutes(2), KubernetesTrackMode.ReplicaRatio, 20),
            (options.Namespace, options.DeploymentNameFormat, options.Container, options.ImageRepository, options.AvailabilityTimeout, options.Mode, options.TotalReplicas));
    }

    [Fact]
    public void Invalid_options_fail_at_start_with_every_problem()
    {
        using var provider = Build(new()
        {
            ["Drivers:Kubernetes:Namespace"] = "Not_A_Namespace",
            ["Drivers:Kubernetes:DeploymentNameFormat"] = "{agent}",
            ["Drivers:Kubernetes:ImageRepository"] = "https://registry/agentworker:1.0",
            ["Drivers:Kubernetes:AvailabilityTimeout"] = "00:00:00",
            ["Drivers:Kubernetes:TotalReplicas"] = "1",
        });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal(5, error.Failures.Count());
        Assert.Contains(error.Failures, f => f.Contains("DeploymentNameFormat '{agent}' must contain {track}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Selected_by_configuration_the_driver_reaches_the_cluster_named_in_the_kubeconfig()
    {
        await using var api = await FakeKubernetesApi.StartAsync();
        api.AddDeployment("agent-canary", "registry.example.com/agentaspire/agentworker:1.1.0", replicas: 2);
        var kubeconfig = Path.Combine(_directory, "config");
        await File.WriteAllTextAsync(kubeconfig, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {api.BaseAddress}
            users:
            - name: tester
              user:
                token: test-token
            contexts:
            - name: fake
              context:
                cluster: fake
                user: tester
            current-context: fake
            """);
        using var provider = Build(new()
        {
            ["Drivers:Track"] = "kubernetes",
            ["Drivers:Kubernetes:KubeConfigPath"] = kubeconfig,
            ["Drivers:Kubernetes:Namespace"] = FakeKubernetesApi.Namespace,
        });
        provider.GetRequiredService<IStartupValidator>().Validate();

        var driver = provider.GetRequiredService<SelectedTrackDriver>().Driver;
        await driver.ScaleAsync("agent-worker", "canary", 0, CancellationToken.None).WaitAsync(Budget);

        Assert.Equal(KubernetesTrackDriver.DriverName, driver.Name);
        var request = Assert.Single(api.Requests);
        Assert.Equal(("PATCH", FakeKubernetesApi.ScalePath("agent-canary")), (request.Method, request.Path));
        Assert.Equal(0, api.Get("agent-canary").Spec.Replicas);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddTrackDrivers();
        services.AddKubernetesTrackDriver(configuration);
        return services.BuildServiceProvider();
    }
}
