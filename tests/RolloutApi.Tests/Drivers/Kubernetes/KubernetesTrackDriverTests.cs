using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RolloutApi.Drivers;
using RolloutApi.Drivers.Kubernetes;
using RolloutApi.Hosting;

namespace RolloutApi.Tests.Drivers.Kubernetes;

/// <summary>
/// The driver against <see cref="FakeKubernetesApi"/>: the exact requests a real API server would receive (paths, verbs,
/// patch bodies, content types, the watch query) and the error paths.
/// </summary>
public sealed class KubernetesTrackDriverTests : IAsyncLifetime
{
    private const string Agent = "agent-worker";
    private const string Repository = "registry.example.com/agentaspire/agentworker";
    private const string Canary = "agent-canary";
    private const string Stable = "agent-stable";
    private const string StrategicMergePatch = "application/strategic-merge-patch+json";
    private const string MergePatch = "application/merge-patch+json";

    /// <summary>Every driver call and every wait in these tests has this deadline.</summary>
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(20);

    private static readonly RevisionSpec Revision3 = new(Agent, 3, "1.1.0", "1.1.0");

    private FakeKubernetesApi _api = null!;
    private IKubernetes _client = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeKubernetesApi.StartAsync();
        _client = _api.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _api.DisposeAsync();
    }

    [Fact]
    public async Task Deploy_patches_the_image_and_version_then_watches_until_the_new_generation_is_available()
    {
        _api.AddDeployment(Canary, $"{Repository}:1.0.0", replicas: 2);
        var driver = CreateDriver();

        var deploy = driver.DeployAsync("canary", Revision3, CancellationToken.None);
        var watch = await _api.WaitForRequestAsync(r => r.IsWatch, Budget);
        Assert.False(deploy.IsCompleted, "The deploy returned before the deployment controller reported the new generation available.");

        _api.MarkRolledOut(Canary);
        await deploy.WaitAsync(Budget);

        var requests = _api.Requests;
        Assert.Equal(
            [("GET", FakeKubernetesApi.DeploymentPath(Canary)), ("PATCH", FakeKubernetesApi.DeploymentPath(Canary)), ("GET", FakeKubernetesApi.WatchPath)],
            requests.Select(r => (r.Method, r.Path)));

        var patch = requests[1];
        Assert.Empty(requests[0].Query);
        Assert.Empty(patch.Query);
        Assert.Equal(StrategicMergePatch, patch.MediaType);
        AssertJson(
            $$"""
            {
              "metadata": {
                "labels": { "app.kubernetes.io/version": "1.1.0" },
                "annotations": {
                  "agentaspire.io/revision": "3",
                  "kubernetes.io/change-cause": "agent-worker revision 3: version 1.1.0, image {{Repository}}:1.1.0"
                }
              },
              "spec": {
                "template": {
                  "metadata": { "labels": { "app.kubernetes.io/version": "1.1.0" } },
                  "spec": {
                    "containers": [
                      { "name": "agent-canary", "image": "{{Repository}}:1.1.0", "env": [ { "name": "Agent__Version", "value": "1.1.0" } ] }
                    ]
                  }
                }
              }
            }
            """,
            patch.Body);

        // The watch is scoped to this Deployment and starts from the version the PATCH answered with.
        var patchedVersion = KubernetesJson.Deserialize<V1Deployment>(patch.ResponseBody).Metadata.ResourceVersion;
        Assert.Equal(["allowWatchBookmarks", "fieldSelector", "resourceVersion", "timeoutSeconds", "watch"], watch.Query.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("true", watch.Query["watch"]);
        Assert.Equal("true", watch.Query["allowWatchBookmarks"]);
        Assert.Equal("metadata.name=agent-canary", watch.Query["fieldSelector"]);
        Assert.Equal(patchedVersion, watch.Query["resourceVersion"]);
        Assert.Equal("15", watch.Query["timeoutSeconds"]); // the availability timeout, so the server ends the watch when the driver gives up

        // What the patch did on the server: only the named container and variable changed.
        var container = Assert.Single(_api.Get(Canary).Spec.Template.Spec.Containers);
        Assert.Equal($"{Repository}:1.1.0", container.Image);
        Assert.Equal([("Agent__Version", "1.1.0"), ("Agent__Track", Canary)], container.Env.Select(e => (e.Name, e.Value)));
    }

    [Fact]
    public async Task Deploy_of_an_unchanged_revision_is_a_no_op_patch_and_returns_without_waiting()
    {
        _api.AddDeployment(Canary, $"{Repository}:1.0.0", replicas: 2);
        _api.Controller = FakeKubernetesApi.CompletedStatus;
        var driver = CreateDriver();
        await driver.DeployAsync("canary", Revision3, CancellationToken.None).WaitAsync(Budget);
        var generation = _api.Get(Canary).Metadata.Generation;
        var before = _api.Requests.Count;

        await driver.DeployAsync("canary", Revision3, CancellationToken.None).WaitAsync(Budget);

        var again = _api.Requests.Skip(before).ToList();
        Assert.Equal([("GET", FakeKubernetesApi.DeploymentPath(Canary)), ("PATCH", FakeKubernetesApi.DeploymentPath(Canary))], again.Select(r => (r.Method, r.Path)));
        Assert.Equal(_api.Requests[before - 2].Body, again[1].Body);
        Assert.Equal(generation, _api.Get(Canary).Metadata.Generation);
    }

    [Fact]
    public async Task Deploy_to_an_idle_canary_scales_it_up_in_the_same_patch()
    {
        _api.AddDeployment(Canary, $"{Repository}:1.0.0", replicas: 0);
        _api.Controller = FakeKubernetesApi.CompletedStatus;
        var driver = CreateDriver(canaryReplicas: 3);

        await driver.DeployAsync("canary", Revision3, CancellationToken.None).WaitAsync(Budget);

        var patch = Assert.Single(_api.Requests, r => r.Method == "PATCH");
        Assert.Equal(3, JsonNode.Parse(patch.Body)!["spec"]!["replicas"]!.GetValue<int>());
        var deployment = _api.Get(Canary);
        Assert.Equal(3, deployment.Spec.Replicas);
        Assert.Equal(3, deployment.Status.AvailableReplicas);
    }

    [Fact]
    public async Task Deploy_to_a_stable_track_at_zero_brings_back_all_replicas()
    {
        _api.AddDeployment(Stable, $"{Repository}:1.0.0", replicas: 0);
        _api.Controller = FakeKubernetesApi.CompletedStatus;
        var driver = CreateDriver(configure: o => o.TotalReplicas = 4);

        await driver.DeployAsync("stable", Revision3, CancellationToken.None).WaitAsync(Budget);

        var patch = Assert.Single(_api.Requests, r => r.Method == "PATCH");
        Assert.Equal(FakeKubernetesApi.DeploymentPath(Stable), patch.Path);
        Assert.Equal(4, JsonNode.Parse(patch.Body)!["spec"]!["replicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task Deploy_patches_the_configured_container_and_keeps_the_current_repository_when_none_is_configured()
    {
        _api.AddDeployment(Canary, "registry.local:5000/team/agentworker:1.0.0@sha256:abc", replicas: 1, extraContainers:
        [
            new V1Container { Name = "worker", Image = "registry.local:5000/team/worker:1.0.0" },
        ]);
        _api.Controller = FakeKubernetesApi.CompletedStatus;
        var driver = CreateDriver(configure: o =>
        {
            o.ImageRepository = null;
            o.Container = "worker";
            o.VersionEnvironmentVariable = "";
        });

        await driver.DeployAsync("canary", Revision3, CancellationToken.None).WaitAsync(Budget);

        var patch = Assert.Single(_api.Requests, r => r.Method == "PATCH");
        AssertJson("""[ { "name": "worker", "image": "registry.local:5000/team/worker:1.1.0" } ]""",
            JsonNode.Parse(patch.Body)!["spec"]!["template"]!["spec"]!["containers"]!.ToJsonString());
        Assert.Equal(
            ["registry.local:5000/team/agentworker:1.0.0@sha256:abc", "registry.local:5000/team/worker:1.1.0"],
            _api.Get(Canary).Spec.Template.Spec.Containers.Select(c => c.Image));
    }

    [Fact]
    public async Task Deploy_prefers_the_agents_own_repository_and_pins_a_digest_with_an_at_sign()
    {
        _api.AddDeployment(Canary, $"{Repository}:1.0.0", replicas: 1);
        _api.Controller = FakeKubernetesApi.CompletedStatus;
        var catalog = new AgentCatalogOptions();
        catalog.Agents[Agent] = new AgentOptions { Image = "registry.example.com/agents/agent-worker" };
        var digest = "sha256:" + new string('a', 64);
        var driver = CreateDriver(catalog: catalog);

        await driver.DeployAsync("canary", Revision3 with { ImageTag = digest }, CancellationToken.None).WaitAsync(Budget);

        Assert.Equal($"registry.example.com/agents/agent-worker@{digest}", _api.Get(Canary).Spec.Template.Spec.Containers[0].Image);
    }

    [Fact]
    public async Task Deploy_uses_the_configured_deployment_name_format()
    {
        _api.AddDeployment("agent-worker-canary", $"{Repository}:1.0.0", replicas: 1);
        _api.Controller = FakeKubernetesApi.CompletedStatus;
        var driver = CreateDriver(configure: o => o.DeploymentNameFormat = "{agent}-{track}");

        await driver.DeployAsync("canary", Revision3, CancellationToken.None).WaitAsync(Budget);

        Assert.Contains(_api.Requests, r => r.Method == "PATCH" && r.Path == FakeKubernetesApi.DeploymentPath("agent-worker-canary"));
    }

    [Fact]
    public async Task Deploy_forbidden_by_RBAC_names_the_verb_resource_and_namespace()
    {
        _api.AddDeployment(Canary, $"{Repository}:1.0.0", replicas: 1);
        _api.FailNext("PATCH", FakeKubernetesApi.DeploymentPath(Canary), HttpStatusCode.Forbidden);
        var driver = CreateDriver();

        var error = await Assert.ThrowsAsync<KubernetesTrackDriverException>(() => driver.DeployAsync("canary", Revision3, CancellationToken.None).WaitAsync(Budget));

        Assert.Equal(HttpStatusCode.Forbidden, error.StatusCode);
        Assert.Equal(("patch", "deployments", FakeKubernetesApi.Namespace, Canary), (error.Verb, error.Resource, error.Namespace, error.Name));
        Assert.Contains("refused to patch deployments 'agent-canary' in namespace 'agents'", error.Message, StringComparison.Ordinal);
        Assert.Contains("RBAC verb 'patch' on apps/deployments", error.Message, StringComparison.Ordinal);
        Assert.Contains("cannot patch resource \"deployments\"", error.Message, StringComparison.Ordinal);
        Assert.Single(_api.Requests, r => r.Method == "PATCH");
    }

    [Fact]
    public async Task A_watch_forbidden_by_RBAC_is_reported_as_watch()
    {
        _api.AddDeployment(Canary, $"{Repository}:1.0.0", replicas: 1);
        _api.FailNext("GET", FakeKubernetesApi.WatchPath, HttpStatusCode.Forbidden);
        var driver = CreateDriver();

        var error = await Assert.ThrowsAsync<KubernetesTrackDriverException>(() => driver.DeployAsync("canary", Revision3, CancellationToken.None).WaitAsync(Budget));

        Assert.Equal(("watch", HttpStatusCode.Forbidden), (error.Verb, error.StatusCode));
        Assert.Contains("RBAC verb 'watch' on apps/deployments", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_deployment_says_which_name_and_namespace_were_looked_up()
    {
        var driver = CreateDriver();

        var error = await Assert.ThrowsAsync<KubernetesTrackDriverException>(() => driver.DeployAsync("canary", Revision3, CancellationToken.None).WaitAsync(Budget));

        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Contains("no deployments 'agent-canary' in namespace 'agents'", error.Message, StringComparison.Ordinal);
        Assert.Contains("DeploymentNameFormat", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_conflicting_patch_is_read_again_and_retried()
    {
        _api.AddDeployment(Canary, $"{Repository}:1.0.0", replicas: 1);
        _api.Controller = FakeKubernetesApi.CompletedStatus;
        _api.FailNext("PATCH", FakeKubernetesApi.DeploymentPath(Canary), HttpStatusCode.Conflict);
        var driver = CreateDriver();

        await driver.DeployAsync("canary", Revision3, CancellationToken.None).WaitAsync(Budget);

        Assert.Equal(
            [("GET", 200), ("PATCH", 409), ("GET", 200), ("PATCH", 200)],
            _api.Requests.Where(r => r.Path == FakeKubernetesApi.DeploymentPath(Canary)).Select(r => (r.Method, r.StatusCode)));
        Assert.Equal($"{Repository}:1.1.0", _api.Get(Canary).Spec.Template.Spec.Containers[0].Image);
    }

    [Fact]
    public async Task Conflicts_are_retried_a_bounded_number_of_times()
    {
        _api.AddDeployment(Canary, $"{Repository}:1.0.0", replicas: 1);
        _api.FailNext("PATCH", FakeKubernetesApi.ScalePath(Canary), HttpStatusCode.Conflict, times: 10);
        var driver = CreateDriver(configure: o => o.ConflictRetries = 2);

        var error = await Assert.ThrowsAsync<KubernetesTrackDriverException>(() => driver.ScaleAsync(Agent, "canary", 0, CancellationToken.None).WaitAsync(Budget));

        Assert.Equal(HttpStatusCode.Conflict, error.StatusCode);
        Assert.Contains("after 3 attempts", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, _api.Requests.Count(r => r.Method == "PATCH"));
    }

    [Fact]
    public async Task A_deployment_that_never_becomes_available_times_out_naming_what_is_missing()
    {
        _api.AddDeployment(Canary, $"{Repository}:1.0.0", replicas: 2);
        // The controller makes progress, but one new pod never becomes available.
        _api.Controller = d => new V1DeploymentStatus { ObservedGeneration = d.Metadata.Generation, Replicas = 2, UpdatedReplicas = 2, AvailableReplicas = 1 };
        var driver = CreateDriver(configure: o => o.AvailabilityTimeout = TimeSpan.FromMilliseconds(500));

        var started = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<TimeoutException>(() => driver.DeployAsync("canary", Revision3, CancellationToken.None).WaitAsync(Budget));

        Assert.Contains("Deployment agents/agent-canary did not become available within 00:00:00.5", error.Message, StringComparison.Ordinal);
        Assert.Contains("availableReplicas 1/2", error.Message, StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"The timeout took {started.Elapsed}.");
    }

    [Fact]
    public async Task A_rollout_past_its_progress_deadline_fails_without_waiting_for_the_timeout()
    {
        _api.AddDeployment(Canary, $"{Repository}:1.0.0", replicas: 1);
        var driver = CreateDriver();
        var deploy = driver.DeployAsync("canary", Revision3, CancellationToken.None);
        await _api.WaitForRequestAsync(r => r.IsWatch, Budget);

        _api.UpdateStatus(Canary, d => new V1DeploymentStatus
        {
            ObservedGeneration = d.Metadata.Generation,
            Replicas = 2,
            UpdatedReplicas = 1,
            AvailableReplicas = 1,
            Conditions = [new V1DeploymentCondition { Type = "Progressing", Status = "False", Reason = "ProgressDeadlineExceeded", Message = "ReplicaSet \"agent-canary-7c9\" has timed out progressing." }],
        });

        var error = await Assert.ThrowsAsync<KubernetesTrackDriverException>(() => deploy.WaitAsync(Budget));
        Assert.Contains("failed to roll out generation 2: progress deadline exceeded", error.Message, StringComparison.Ordinal);
        Assert.Contains("has timed out progressing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_stops_the_wait_and_is_not_reported_as_a_timeout()
    {
        _api.AddDeployment(Canary, $"{Repository}:1.0.0", replicas: 1);
        var driver = CreateDriver();
        using var cancellation = new CancellationTokenSource();
        var deploy = driver.DeployAsync("canary", Revision3, cancellation.Token);
        await _api.WaitForRequestAsync(r => r.IsWatch, Budget);

        await cancellation.CancelAsync();

        // Not a TimeoutException: the caller cancelled, the deadline did not pass.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => deploy.WaitAsync(Budget));
    }

    [Fact]
    public async Task An_expired_watch_is_followed_by_a_fresh_read_and_a_new_watch()
    {
        _api.AddDeployment(Canary, $"{Repository}:1.0.0", replicas: 1);
        _api.CompactedBelow = long.MaxValue;
        var driver = CreateDriver();
        var deploy = driver.DeployAsync("canary", Revision3, CancellationToken.None);
        var first = await _api.WaitForRequestAsync(r => r.IsWatch, Budget);

        _api.CompactedBelow = 0;
        _api.MarkRolledOut(Canary);
        await deploy.WaitAsync(Budget);

        var after = _api.Requests.SkipWhile(r => r != first).Skip(1).Take(1).Select(r => (r.Method, r.Path));
        Assert.Equal([("GET", FakeKubernetesApi.DeploymentPath(Canary))], after);
    }

    [Fact]
    public async Task Scale_patches_the_scale_subresource_with_a_merge_patch()
    {
        _api.AddDeployment(Canary, $"{Repository}:1.1.0", replicas: 3);
        var driver = CreateDriver();

        await driver.ScaleAsync(Agent, "canary", 0, CancellationToken.None).WaitAsync(Budget);

        var request = Assert.Single(_api.Requests);
        Assert.Equal(("PATCH", FakeKubernetesApi.ScalePath(Canary), MergePatch), (request.Method, request.Path, request.MediaType));
        AssertJson("""{ "spec": { "replicas": 0 } }""", request.Body);
        Assert.Equal(0, _api.Get(Canary).Spec.Replicas);
    }

    [Fact]
    public async Task Scale_forbidden_by_RBAC_names_the_scale_subresource()
    {
        _api.AddDeployment(Canary, $"{Repository}:1.1.0", replicas: 3);
        _api.FailNext("PATCH", FakeKubernetesApi.ScalePath(Canary), HttpStatusCode.Forbidden);
        var driver = CreateDriver();

        var error = await Assert.ThrowsAsync<KubernetesTrackDriverException>(() => driver.ScaleAsync(Agent, "canary", 0, CancellationToken.None).WaitAsync(Budget));

        Assert.Equal(("patch", "deployments/scale"), (error.Verb, error.Resource));
        Assert.Contains("RBAC verb 'patch' on apps/deployments/scale", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_API_server_is_reported_with_the_call_that_failed()
    {
        var address = _api.BaseAddress;
        await _api.DisposeAsync();
        using var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = address.ToString() });
        var driver = CreateDriver(client: client);

        var error = await Assert.ThrowsAsync<KubernetesTrackDriverException>(() => driver.ScaleAsync(Agent, "canary", 0, CancellationToken.None).WaitAsync(Budget));

        Assert.Null(error.StatusCode);
        Assert.StartsWith("Could not reach the Kubernetes API to patch deployments/scale 'agent-canary' in namespace 'agents'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_gateway_mode_weights_touch_nothing()
    {
        var driver = CreateDriver();

        await driver.ApplyWeightAsync(Agent, 2500, CancellationToken.None).WaitAsync(Budget);

        Assert.Empty(_api.Requests);
    }

    [Fact]
    public async Task In_replica_ratio_mode_a_growing_canary_is_scaled_and_available_before_the_stable_track_shrinks()
    {
        _api.AddDeployment(Stable, $"{Repository}:1.0.0", replicas: 10);
        _api.AddDeployment(Canary, $"{Repository}:1.1.0", replicas: 1);
        _api.Controller = FakeKubernetesApi.CompletedStatus;
        var driver = CreateDriver(configure: o => o.Mode = KubernetesTrackMode.ReplicaRatio);

        await driver.ApplyWeightAsync(Agent, 2500, CancellationToken.None).WaitAsync(Budget);

        var requests = _api.Requests;
        Assert.Equal(
            [
                ("GET", FakeKubernetesApi.ScalePath(Canary)),
                ("PATCH", FakeKubernetesApi.ScalePath(Canary)),
                ("GET", FakeKubernetesApi.DeploymentPath(Canary)),
                ("PATCH", FakeKubernetesApi.ScalePath(Stable)),
            ],
            requests.Select(r => (r.Method, r.Path)));
        AssertJson("""{ "spec": { "replicas": 3 } }""", requests[1].Body);
        AssertJson("""{ "spec": { "replicas": 7 } }""", requests[3].Body);
        Assert.All(requests.Where(r => r.Method == "PATCH"), r => Assert.Equal(MergePatch, r.MediaType));
    }

    [Fact]
    public async Task In_replica_ratio_mode_a_growing_canary_that_never_becomes_available_keeps_the_stable_track_whole()
    {
        _api.AddDeployment(Stable, $"{Repository}:1.0.0", replicas: 10);
        _api.AddDeployment(Canary, $"{Repository}:1.1.0", replicas: 1);
        var driver = CreateDriver(configure: o =>
        {
            o.Mode = KubernetesTrackMode.ReplicaRatio;
            o.AvailabilityTimeout = TimeSpan.FromMilliseconds(300);
        });

        await Assert.ThrowsAsync<TimeoutException>(() => driver.ApplyWeightAsync(Agent, 5000, CancellationToken.None).WaitAsync(Budget));

        Assert.DoesNotContain(_api.Requests, r => r.Path == FakeKubernetesApi.ScalePath(Stable));
        Assert.Equal(10, _api.Get(Stable).Spec.Replicas);
    }

    [Fact]
    public async Task In_replica_ratio_mode_weight_zero_takes_the_canary_down_first_without_waiting()
    {
        _api.AddDeployment(Stable, $"{Repository}:1.0.0", replicas: 5);
        _api.AddDeployment(Canary, $"{Repository}:1.1.0", replicas: 5);
        var driver = CreateDriver(configure: o => o.Mode = KubernetesTrackMode.ReplicaRatio);

        await driver.ApplyWeightAsync(Agent, 0, CancellationToken.None).WaitAsync(Budget);

        var requests = _api.Requests;
        Assert.Equal(
            [("GET", FakeKubernetesApi.ScalePath(Canary)), ("PATCH", FakeKubernetesApi.ScalePath(Canary)), ("PATCH", FakeKubernetesApi.ScalePath(Stable))],
            requests.Select(r => (r.Method, r.Path)));
        AssertJson("""{ "spec": { "replicas": 0 } }""", requests[1].Body);
        AssertJson("""{ "spec": { "replicas": 10 } }""", requests[2].Body);
    }

    [Fact]
    public async Task In_replica_ratio_mode_scaling_the_canary_never_undoes_the_ratio_but_idling_it_does()
    {
        _api.AddDeployment(Canary, $"{Repository}:1.1.0", replicas: 3);
        var driver = CreateDriver(configure: o => o.Mode = KubernetesTrackMode.ReplicaRatio);

        await driver.ScaleAsync(Agent, "canary", 1, CancellationToken.None).WaitAsync(Budget);
        Assert.Equal([("GET", FakeKubernetesApi.ScalePath(Canary))], _api.Requests.Select(r => (r.Method, r.Path)));
        Assert.Equal(3, _api.Get(Canary).Spec.Replicas);

        await driver.ScaleAsync(Agent, "canary", 0, CancellationToken.None).WaitAsync(Budget);
        Assert.Equal(0, _api.Get(Canary).Spec.Replicas);
    }

    [Fact]
    public async Task A_mutable_image_tag_is_refused_before_any_request()
    {
        var driver = CreateDriver();

        await Assert.ThrowsAsync<ArgumentException>(() => driver.DeployAsync("canary", Revision3 with { ImageTag = "latest" }, CancellationToken.None).WaitAsync(Budget));

        Assert.Empty(_api.Requests);
    }

    private KubernetesTrackDriver CreateDriver(Action<KubernetesTrackDriverOptions>? configure = null, int canaryReplicas = 2, AgentCatalogOptions? catalog = null, IKubernetes? client = null)
    {
        var options = new KubernetesTrackDriverOptions
        {
            Namespace = FakeKubernetesApi.Namespace,
            ImageRepository = Repository,
            AvailabilityTimeout = TimeSpan.FromSeconds(15),
        };
        configure?.Invoke(options);
        var validation = new KubernetesTrackDriverOptionsValidator().Validate(null, options);
        Assert.True(validation.Succeeded, validation.FailureMessage);
        return new KubernetesTrackDriver(
            new KubernetesClientHandle(() => client ?? _client),
            Options.Create(options),
            Options.Create(new RolloutApiOptions { CanaryReplicas = canaryReplicas }),
            Options.Create(catalog ?? new AgentCatalogOptions()),
            TimeProvider.System,
            NullLogger<KubernetesTrackDriver>.Instance);
    }

    private static void AssertJson(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"Expected {JsonNode.Parse(expected)!.ToJsonString()}\nbut got {actual}");
}
