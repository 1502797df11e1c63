using AgentAspire.Contracts;
using AppHost.Kubernetes;
using AppHost.Kubernetes.AppModel;
using AppHost.Kubernetes.Manifests;
using AppHost.Model;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static AppHost.Kubernetes.Manifests.ConfigurationManifests;
using static AppHost.Kubernetes.Manifests.DeploymentManifests;
using static AppHost.Kubernetes.Manifests.KubernetesManifestBuilder;
using static AppHost.Kubernetes.Manifests.StorageManifests;

namespace AppHost.Tests.Kubernetes;

/// <summary>
/// The manifest builder on small app models built for each test (no pipeline, no files): how values, references,
/// secrets, replicas and agent tracks of a model become objects.
/// </summary>
public sealed class KubernetesManifestBuilderTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private const string ImagesTag = "2.0.0";
    private static readonly ContainerImages Images = new("registry.test/team", ImagesTag);

    private readonly DirectoryInfo _projects = Directory.CreateTempSubdirectory("agentaspire-k8s-projects-");

    public void Dispose() => _projects.Delete(recursive: true);

    /// <summary>An empty project file: the model only needs its path (the image name comes from the file name).</summary>
    private string Project(string name)
    {
        var path = Path.Combine(_projects.FullName, name, $"{name}.csproj");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "<Project />");
        return path;
    }

    [Fact]
    public async Task SecretParametersAndValuesBuiltFromThemGoToTheSecretAndPlainValuesToTheConfigMap()
    {
        var manifest = await BuildAsync(
            builder =>
            {
                var password = builder.AddParameter("db-password", secret: true);
                var level = builder.AddParameter("feature-level");
                builder.AddProject("api", Project("Api")).WithHttpEndpoint()
                    .WithEnvironment("Db__Password", password)
                    .WithEnvironment("ConnectionStrings__Db", ReferenceExpression.Create($"Host=db;Password={password.Resource}"))
                    .WithEnvironment("Feature__Level", level)
                    .WithEnvironment("Plain", "value");
            },
            "--Parameters:db-password=s3cr3t-pa55", "--Parameters:feature-level=gold");

        var secret = Single<V1Secret>(manifest, SecretName("api"));
        Assert.Equal("s3cr3t-pa55", secret.StringData["Db__Password"]);
        Assert.Equal("Host=db;Password=s3cr3t-pa55", secret.StringData["ConnectionStrings__Db"]);

        var configuration = Single<V1ConfigMap>(manifest, ConfigMapName("api")).Data;
        Assert.Equal("gold", configuration["Feature__Level"]);
        Assert.Equal("value", configuration["Plain"]);
        Assert.DoesNotContain(configuration.Values, v => v.Contains("s3cr3t-pa55", StringComparison.Ordinal));

        var env = Assert.Single(Single<V1Deployment>(manifest, "api").Spec.Template.Spec.Containers).Env;
        Assert.Equal(["ConnectionStrings__Db", "Db__Password"], env.Select(e => e.Name));
        Assert.All(env, e => Assert.Equal(SecretName("api"), e.ValueFrom.SecretKeyRef.Name));
    }

    [Fact]
    public async Task ReferencesAndEndpointPropertiesResolveToTheServicesDnsNameAndPorts()
    {
        var manifest = await BuildAsync(builder =>
        {
            var api = builder.AddProject("api", Project("Api")).WithHttpEndpoint().WithHttpsEndpoint();
            var endpoint = api.GetEndpoint("http");
            builder.AddProject("web", Project("Web")).WithHttpEndpoint()
                .WithReference(api)
                .WithEnvironment("Api__HostAndPort", endpoint.Property(EndpointProperty.HostAndPort))
                .WithEnvironment("Api__TargetPort", endpoint.Property(EndpointProperty.TargetPort))
                .WithEnvironment("Api__Https", api.GetEndpoint("https"));
        });

        var configuration = Single<V1ConfigMap>(manifest, ConfigMapName("web")).Data;
        Assert.Equal("http://api:80", configuration["services__api__http__0"]);
        Assert.Equal("api:80", configuration["Api__HostAndPort"]);
        Assert.Equal("8080", configuration["Api__TargetPort"]);
        // No container serves TLS inside the cluster: references to https endpoints are not published.
        Assert.DoesNotContain("Api__Https", configuration.Keys);
        Assert.DoesNotContain(configuration.Keys, k => k.StartsWith("services__api__https", StringComparison.Ordinal));
        Assert.Equal(["http"], Single<V1Service>(manifest, "api").Spec.Ports.Select(p => p.Name));
    }

    [Fact]
    public async Task TheControlPlaneRunsOneReplicaWhateverTheModelSaysWhileOtherServicesKeepTheirReplicas()
    {
        var manifest = await BuildAsync(builder =>
        {
            builder.AddProject(ResourceNames.RolloutApi, Project("RolloutApi")).WithHttpEndpoint().WithReplicas(3).WithRole(ResourceRole.ControlPlane);
            builder.AddProject("api", Project("Api")).WithHttpEndpoint().WithReplicas(3);
        });

        Assert.Equal(1, Single<V1Deployment>(manifest, ResourceNames.RolloutApi).Spec.Replicas);
        Assert.Equal(3, Single<V1Deployment>(manifest, "api").Spec.Replicas);
        Assert.Equal("RollingUpdate", Single<V1Deployment>(manifest, "api").Spec.Strategy.Type);
        Assert.Empty(manifest.Objects.OfType<V1PodDisruptionBudget>());
    }

    /// <summary>The publisher acts on the role, never on the name: renamed, the control plane keeps its volume and RBAC.</summary>
    [Fact]
    public async Task TheControlPlaneIsKnownByItsRoleNotByItsName()
    {
        var manifest = await BuildAsync(builder =>
        {
            builder.AddProject("rollouts", Project("RolloutApi")).WithHttpEndpoint().WithRole(ResourceRole.ControlPlane);
            builder.AddProject(ResourceNames.RolloutApi, Project("Impostor")).WithHttpEndpoint().WithReplicas(2);
            builder.AddProject("edge", Project("Gateway")).WithHttpEndpoint().WithRole(ResourceRole.Gateway);
        });

        var controlPlane = Single<V1Deployment>(manifest, "rollouts");
        Assert.Equal((1, "Recreate", "rollouts"), (controlPlane.Spec.Replicas, controlPlane.Spec.Strategy.Type, controlPlane.Spec.Template.Spec.ServiceAccountName));
        Assert.Equal("control-plane", controlPlane.Metadata.Labels[Labels.Component]);
        Assert.Equal("rollouts", Assert.Single(manifest.Objects.OfType<V1Role>()).Metadata.Name);
        Assert.Equal(DataClaimName("rollouts"), Assert.Single(manifest.Objects.OfType<V1PersistentVolumeClaim>()).Metadata.Name);
        Assert.Equal("kubernetes", Single<V1ConfigMap>(manifest, ConfigMapName("rollouts")).Data[EnvironmentNames.TrackDriver]);

        var impostor = Single<V1Deployment>(manifest, ResourceNames.RolloutApi);
        Assert.Equal((2, "RollingUpdate"), (impostor.Spec.Replicas, impostor.Spec.Strategy.Type));
        Assert.False(impostor.Spec.Template.Spec.AutomountServiceAccountToken);
        Assert.DoesNotContain(EnvironmentNames.TrackDriver, Single<V1ConfigMap>(manifest, ConfigMapName(ResourceNames.RolloutApi)).Data.Keys);

        Assert.Equal("false", Single<V1ConfigMap>(manifest, ConfigMapName("edge")).Data[EnvironmentNames.GatewayForcedTrackAnonymous]);
        Assert.DoesNotContain(EnvironmentNames.GatewayForcedTrackAnonymous, Single<V1ConfigMap>(manifest, ConfigMapName(ResourceNames.RolloutApi)).Data.Keys);
    }

    [Fact]
    public async Task AgentTracksAreRecognisedByTheirAnnotationSoASecondAgentIsPublishedTheSameWay()
    {
        var options = new KubernetesPublishOptions { AgentReplicas = 4, StableReplicaRatio = 3, CanaryReplicaRatio = 1 };
        var manifest = await BuildAsync(
            builder =>
            {
                foreach (var track in new[] { Tracks.Stable, Tracks.Canary })
                {
                    builder.AddProject($"summarizer-{track}", Project("Summarizer")).WithHttpEndpoint()
                        .WithAgentTrack("summarizer", track, track == Tracks.Stable ? "3.0.0" : "3.1.0");
                }
            },
            options: options);

        var stable = Single<V1Deployment>(manifest, "summarizer-stable");
        var canary = Single<V1Deployment>(manifest, "summarizer-canary");
        Assert.Equal((3, 1), (stable.Spec.Replicas, canary.Spec.Replicas));
        Assert.Equal("summarizer", canary.Metadata.Labels[Labels.Name]);
        Assert.Equal("3.1.0", canary.Metadata.Labels[Labels.Version]);
        Assert.Equal(Tracks.Canary, canary.Metadata.Labels[Labels.Track]);
        Assert.Equal("registry.test/team/summarizer:2.0.0", Assert.Single(canary.Spec.Template.Spec.Containers).Image);
        Assert.Equal(2, manifest.Objects.OfType<V1PodDisruptionBudget>().Count());
    }

    /// <summary>
    /// No environment string is parsed: a track whose process reads its identity under other names is still a track
    /// (labels, ratio replicas, budget, version beside the image), and a service that merely sets <c>Agent__Track</c> is not.
    /// </summary>
    [Fact]
    public async Task ATrackIsWhatTheAnnotationSaysWhateverItsEnvironmentVariablesAreNamed()
    {
        var manifest = await BuildAsync(builder =>
        {
            builder.AddProject("scorer-canary", Project("Scorer")).WithHttpEndpoint()
                .WithAnnotation(new AgentTrackAnnotation("scorer", Tracks.Canary, ReferenceExpression.Create($"7.2.0"), Project("Scorer"), versionKey: "Scorer:Release"))
                .WithEnvironment("Scorer__Lane", "the-new-one");
            builder.AddProject("lookalike", Project("Lookalike")).WithHttpEndpoint().WithReplicas(2)
                .WithEnvironment(AgentVariables.Name, "scorer")
                .WithEnvironment(AgentVariables.Track, Tracks.Canary)
                .WithEnvironment(AgentVariables.Version, "9.9.9");
        });

        var track = Single<V1Deployment>(manifest, "scorer-canary");
        Assert.Equal(1, track.Spec.Replicas);
        Assert.Equal(("scorer", Tracks.Canary, "7.2.0", "agent"), (track.Metadata.Labels[Labels.Name], track.Metadata.Labels[Labels.Track], track.Metadata.Labels[Labels.Version], track.Metadata.Labels[Labels.Component]));
        Assert.Equal("7.2.0", Assert.Single(Assert.Single(track.Spec.Template.Spec.Containers).Env, e => e.Name == "Scorer__Release").Value);
        Single<V1PodDisruptionBudget>(manifest, "scorer-canary");

        var lookalike = Single<V1Deployment>(manifest, "lookalike");
        Assert.Equal(2, lookalike.Spec.Replicas);
        Assert.False(lookalike.Metadata.Labels.ContainsKey(Labels.Track));
        Assert.Equal(ImagesTag, lookalike.Metadata.Labels[Labels.Version]);
        Assert.Null(Assert.Single(lookalike.Spec.Template.Spec.Containers).Env);
        Assert.Equal("9.9.9", Single<V1ConfigMap>(manifest, ConfigMapName("lookalike")).Data[AgentVariables.Version]);
        Assert.DoesNotContain(manifest.Objects.OfType<V1PodDisruptionBudget>(), b => b.Metadata.Name == "lookalike");
    }

    /// <summary>
    /// A track need not be a project (issue 9 runs tracks as <c>dotnet &lt;store&gt;/&lt;hash&gt;/AgentWorker.dll</c>): an
    /// executable carrying the annotation publishes as the track's Deployment, its image named after the annotation's project.
    /// </summary>
    [Fact]
    public async Task AnExecutableTrackPublishesAsADeploymentOfItsProjectsImage()
    {
        var manifest = await BuildAsync(builder =>
        {
            builder.AddExecutable("summarizer-canary", "dotnet", _projects.FullName, "store/3f9a/Summarizer.dll")
                .WithHttpEndpoint(env: "PORT")
                .WithAgentTrack("summarizer", Tracks.Canary, "3.1.0", projectPath: Project("Summarizer"));
            builder.AddExecutable("tool", "dotnet", _projects.FullName, "tool.dll").WithHttpEndpoint(env: "PORT");
        });

        var canary = Single<V1Deployment>(manifest, "summarizer-canary");
        var container = Assert.Single(canary.Spec.Template.Spec.Containers);
        Assert.Equal("registry.test/team/summarizer:2.0.0", container.Image);
        Assert.Equal("3.1.0", Assert.Single(container.Env, e => e.Name == AgentVariables.Version).Value);
        Assert.Equal(Tracks.Canary, Single<V1ConfigMap>(manifest, ConfigMapName("summarizer-canary")).Data[AgentVariables.Track]);
        Single<V1Service>(manifest, "summarizer-canary");
        // Only tracks are taken from executables: any other executable has no image to publish.
        Assert.DoesNotContain(manifest.Objects.OfType<V1Deployment>(), d => d.Metadata.Name == "tool");
    }

    [Fact]
    public void AnExecutableTrackMustNameTheProjectItsBuildsComeFrom()
    {
        var builder = CreateBuilder([]);
        var executable = builder.AddExecutable("summarizer-canary", "dotnet", _projects.FullName);

        var error = Assert.Throws<ArgumentException>(() => executable.WithAgentTrack("summarizer", Tracks.Canary, "3.1.0"));

        Assert.Contains("projectPath", error.Message);
    }

    [Fact]
    public async Task AServiceWithoutAnHttpEndpointGetsNoServiceNoProbesAndNoScrapeAnnotations()
    {
        var manifest = await BuildAsync(builder => builder.AddProject("worker", Project("Worker")));

        Assert.Empty(manifest.Objects.OfType<V1Service>());
        var deployment = Single<V1Deployment>(manifest, "worker");
        var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
        Assert.Null(container.LivenessProbe);
        Assert.Empty(deployment.Spec.Template.Metadata.Annotations);
        Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
    }

    [Fact]
    public async Task ReadingTheModelInRunModeIsRefused()
    {
        await using var app = CreateBuilder([]).Build();
        var runContext = app.Services.GetRequiredService<DistributedApplicationExecutionContext>();

        Assert.Throws<ArgumentException>(() => new AppModelReader(runContext));
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("")]
    public void ALatestOrEmptyTagIsRefusedBeforeAnyObjectIsBuilt(string tag)
    {
        var builder = new KubernetesManifestBuilder(new KubernetesPublishOptions(), Images with { Tag = tag });

        var error = Assert.Throws<KubernetesPublishException>(() => builder.Build([]));

        Assert.Contains(KubernetesParameterNames.ImageTag, error.Message);
    }

    [Fact]
    public async Task RenderingListsEveryFileInTheKustomizationAndIsDeterministic()
    {
        var manifest = await BuildAsync(builder => builder.AddProject("api", Project("Api")).WithHttpEndpoint());

        var first = manifest.Render();
        var second = manifest.Render();

        Assert.Equal(first, second);
        var (fileName, kustomization) = first[^1];
        Assert.Equal(KubernetesManifest.KustomizationFileName, fileName);
        Assert.All(first.SkipLast(1), f => Assert.Contains($"- {f.FileName}\n", kustomization));
        Assert.All(first, f => Assert.EndsWith("\n", f.Content));
        Assert.Equal(["agentaspire-namespace.yaml", "api-configmap.yaml", "api-service.yaml", "api-deployment.yaml"], first.SkipLast(1).Select(f => f.FileName));
    }

    private static T Single<T>(KubernetesManifest manifest, string name)
        where T : IKubernetesObject<V1ObjectMeta> =>
        Assert.Single(manifest.Objects.OfType<T>(), o => o.Metadata.Name == name);

    /// <summary>An empty app model builder; the AppHost assembly stands in as the application (for its paths only).</summary>
    private static IDistributedApplicationBuilder CreateBuilder(string[] arguments) =>
        DistributedApplication.CreateBuilder(new DistributedApplicationOptions
        {
            Args = arguments,
            AssemblyName = typeof(ParameterNames).Assembly.GetName().Name,
            DisableDashboard = true,
        });

    /// <summary>Builds a small model in publish mode (never run) and the manifest for it.</summary>
    private async Task<KubernetesManifest> BuildAsync(
        Action<IDistributedApplicationBuilder> compose,
        params string[] arguments) => await BuildAsync(compose, null, arguments);

    private async Task<KubernetesManifest> BuildAsync(
        Action<IDistributedApplicationBuilder> compose,
        KubernetesPublishOptions? options,
        params string[] arguments)
    {
        var builder = CreateBuilder(["--operation", "publish", "--clear-cache", "true", .. arguments]);
        compose(builder);
        await using var app = builder.Build();
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        var executionContext = app.Services.GetRequiredService<DistributedApplicationExecutionContext>();
        return await new KubernetesManifestBuilder(options ?? new KubernetesPublishOptions(), Images)
            .BuildAsync(model, executionContext, CancellationToken.None)
            .WaitAsync(Deadline);
    }
}
