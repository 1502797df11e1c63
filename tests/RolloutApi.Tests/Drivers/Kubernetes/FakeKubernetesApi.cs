using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RolloutApi.Tests.Drivers.Kubernetes;

/// <summary>One request as the fake API server received it.</summary>
public sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Query, string? ContentType, string Body, int StatusCode, string ResponseBody)
{
    public string? MediaType => ContentType?.Split(';')[0].Trim();

    public bool IsWatch => Query.TryGetValue("watch", out var watch) && watch == "true";

    public override string ToString() => $"{Method} {Path}{(Query.Count > 0 ? "?" + string.Join('&', Query.Select(q => $"{q.Key}={q.Value}")) : "")} -> {StatusCode}";
}

/// <summary>
/// The few endpoints of the Kubernetes API server the track driver uses, served by a real Kestrel on 127.0.0.1:0:
/// GET and PATCH of a Deployment (strategic merge: maps merge, lists of named items merge by name, null deletes), GET and
/// PATCH of its scale subresource, and a watch of Deployments in the JSON-lines watch format with resourceVersion
/// semantics (events after the given version, ERROR 410 for a compacted one, the server's timeoutSeconds). It records
/// every request. The deployment controller is played by the test (<see cref="MarkRolledOut"/>), or automatically after
/// each spec change by <see cref="Controller"/>.
/// </summary>
public sealed partial class FakeKubernetesApi : IAsyncDisposable
{
    public const string Namespace = "agents";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, V1Deployment> _deployments = [];
    private readonly List<(long ResourceVersion, string Name, string Type, string Json)> _events = [];
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<(string Method, string Path, HttpStatusCode Code)> _failures = [];
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource _changed = NewSignal();
    private long _resourceVersion = 1000;
    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>
    /// Plays the deployment controller: after every spec change, the status it reports next (e.g.
    /// <see cref="CompletedStatus"/>), as a separate MODIFIED event after the one of the change. Unset, the status stays
    /// until the test calls <see cref="MarkRolledOut"/> or <see cref="UpdateStatus"/>.
    /// </summary>
    public Func<V1Deployment, V1DeploymentStatus>? Controller { get; set; }

    /// <summary>Watches from a resourceVersion below this get an ERROR event with a 410 Status, as after etcd compaction.</summary>
    public long CompactedBelow { get; set; }

    public static async Task<FakeKubernetesApi> StartAsync()
    {
        var api = new FakeKubernetesApi();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(api.HandleAsync);
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        api._app = app;
        api.BaseAddress = new Uri(address);
        return api;
    }

    /// <summary>A client for this server, configured as the driver's would be, minus credentials.</summary>
    public IKubernetes CreateClient() => new k8s.Kubernetes(new KubernetesClientConfiguration { Host = BaseAddress.ToString() });

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    public static string DeploymentPath(string name) => $"/apis/apps/v1/namespaces/{Namespace}/deployments/{name}";

    public static string ScalePath(string name) => $"{DeploymentPath(name)}/scale";

    public static string WatchPath => $"/apis/apps/v1/namespaces/{Namespace}/deployments";

    /// <summary>Adds a Deployment whose only (or first) container is named like it, as the publisher writes them.</summary>
    public V1Deployment AddDeployment(string name, string image, int replicas, bool available = true, IList<V1Container>? extraContainers = null)
    {
        var deployment = new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = Namespace,
                Generation = 1,
                Labels = new Dictionary<string, string> { ["app.kubernetes.io/instance"] = name, ["app.kubernetes.io/version"] = "1.0.0" },
            },
            Spec = new V1DeploymentSpec
            {
                Replicas = replicas,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app.kubernetes.io/instance"] = name } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app.kubernetes.io/instance"] = name, ["app.kubernetes.io/version"] = "1.0.0" } },
                    Spec = new V1PodSpec
                    {
                        Containers =
                        [
                            new V1Container
                            {
                                Name = name,
                                Image = image,
                                Env = [new V1EnvVar { Name = "Agent__Version", Value = "1.0.0" }, new V1EnvVar { Name = "Agent__Track", Value = name }],
                            },
                            .. extraContainers ?? [],
                        ],
                    },
                },
            },
        };
        deployment.Status = available ? CompletedStatus(deployment) : new V1DeploymentStatus { ObservedGeneration = 1, Replicas = replicas, UpdatedReplicas = replicas };
        lock (_gate)
        {
            Store(deployment, "ADDED");
        }

        return deployment;
    }

    public V1Deployment Get(string name)
    {
        lock (_gate)
        {
            return Clone(_deployments[name]);
        }
    }

    /// <summary>As the deployment controller does when a rollout completes: every replica updated and available.</summary>
    public void MarkRolledOut(string name) => UpdateStatus(name, CompletedStatus);

    /// <summary>Replaces the status, as the controller reports progress, and emits a MODIFIED event.</summary>
    public void UpdateStatus(string name, Func<V1Deployment, V1DeploymentStatus> status)
    {
        lock (_gate)
        {
            var deployment = Clone(_deployments[name]);
            deployment.Status = status(deployment);
            Store(deployment, "MODIFIED");
        }
    }

    /// <summary>The next <paramref name="times"/> requests with this method and path are answered with <paramref name="code"/>.</summary>
    public void FailNext(string method, string path, HttpStatusCode code, int times = 1)
    {
        lock (_gate)
        {
            for (var i = 0; i < times; i++)
            {
                _failures.Add((method, path, code));
            }
        }
    }

    /// <summary>Waits (with a deadline) until a request matching <paramref name="match"/> has been received.</summary>
    public async Task<RecordedRequest> WaitForRequestAsync(Func<RecordedRequest, bool> match, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                var found = _requests.FirstOrDefault(match);
                if (found is not null)
                {
                    return found;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No matching request within {timeout}; received: {string.Join("; ", Requests)}");
            }
        }
    }

    public static V1DeploymentStatus CompletedStatus(V1Deployment deployment)
    {
        var replicas = deployment.Spec.Replicas ?? 1;
        return new V1DeploymentStatus
        {
            ObservedGeneration = deployment.Metadata.Generation,
            Replicas = replicas,
            UpdatedReplicas = replicas,
            ReadyReplicas = replicas,
            AvailableReplicas = replicas,
            Conditions =
            [
                new V1DeploymentCondition { Type = "Available", Status = "True", Reason = "MinimumReplicasAvailable", Message = "Deployment has minimum availability." },
                new V1DeploymentCondition { Type = "Progressing", Status = "True", Reason = "NewReplicaSetAvailable", Message = "ReplicaSet has successfully progressed." },
            ],
        };
    }

    /// <summary>Stops the server (open watches end first); a second call does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _app, null) is not { } app)
        {
            return;
        }

        await _stopping.CancelAsync();
        await app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await app.DisposeAsync();
        _stopping.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var body = await new StreamReader(request.Body, Encoding.UTF8).ReadToEndAsync(context.RequestAborted);
        var query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        var path = request.Path.Value ?? "";

        var (status, response, watch) = Dispatch(request.Method, path, query, request.ContentType, body);
        lock (_gate)
        {
            _requests.Add(new RecordedRequest(request.Method, path, query, request.ContentType, body, status, response));
            Signal();
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        if (watch is not null)
        {
            await StreamWatchAsync(context, watch.Value.Name, watch.Value.From, query);
            return;
        }

        await context.Response.WriteAsync(response, context.RequestAborted);
    }

    private (int Status, string Body, (string Name, long? From)? Watch) Dispatch(string method, string path, Dictionary<string, string> query, string? contentType, string body)
    {
        lock (_gate)
        {
            var failure = _failures.FindIndex(f => f.Method == method && f.Path == path);
            if (failure >= 0)
            {
                var code = _failures[failure].Code;
                _failures.RemoveAt(failure);
                return ((int)code, StatusBody(code, method, path), null);
            }

            var ns = NamespaceOf().Match(path);
            if (ns.Success && ns.Groups[1].Value != Namespace)
            {
                return (404, StatusBody(HttpStatusCode.NotFound, method, path), null);
            }

            if (method == "GET" && path == WatchPath && query.GetValueOrDefault("watch") == "true")
            {
                var selector = FieldSelector().Match(query.GetValueOrDefault("fieldSelector") ?? "");
                if (!selector.Success)
                {
                    return (400, StatusBody(HttpStatusCode.BadRequest, method, path), null);
                }

                long? from = long.TryParse(query.GetValueOrDefault("resourceVersion"), CultureInfo.InvariantCulture, out var rv) ? rv : null;
                return (200, "", (selector.Groups[1].Value, from));
            }

            var item = Item().Match(path);
            if (!item.Success || !_deployments.TryGetValue(item.Groups[1].Value, out var deployment))
            {
                return (404, StatusBody(HttpStatusCode.NotFound, method, path), null);
            }

            var isScale = item.Groups[2].Success;
            switch (method)
            {
                case "GET":
                    return (200, isScale ? KubernetesJson.Serialize(ScaleOf(deployment)) : KubernetesJson.Serialize(deployment), null);
                case "PATCH":
                    var strategic = contentType?.StartsWith("application/strategic-merge-patch+json", StringComparison.Ordinal) == true;
                    if (!strategic && contentType?.StartsWith("application/merge-patch+json", StringComparison.Ordinal) != true)
                    {
                        return (415, StatusBody(HttpStatusCode.UnsupportedMediaType, method, path), null);
                    }

                    var patched = isScale ? PatchScale(deployment, body) : PatchDeployment(deployment, body, strategic);
                    return (200, isScale ? KubernetesJson.Serialize(ScaleOf(patched)) : KubernetesJson.Serialize(patched), null);
                default:
                    return (405, StatusBody(HttpStatusCode.MethodNotAllowed, method, path), null);
            }
        }
    }

    private V1Deployment PatchDeployment(V1Deployment deployment, string body, bool strategic)
    {
        var merged = Merge(JsonNode.Parse(KubernetesJson.Serialize(deployment)), JsonNode.Parse(body), strategic);
        var patched = KubernetesJson.Deserialize<V1Deployment>(merged!.ToJsonString());
        return Commit(deployment, patched);
    }

    private V1Deployment PatchScale(V1Deployment deployment, string body)
    {
        var replicas = JsonNode.Parse(body)?["spec"]?["replicas"]?.GetValue<int>();
        var patched = Clone(deployment);
        patched.Spec.Replicas = replicas ?? patched.Spec.Replicas;
        return Commit(deployment, patched);
    }

    /// <summary>Like the API server: a changed spec bumps the generation, any change bumps the resourceVersion, none is a no-op.</summary>
    private V1Deployment Commit(V1Deployment before, V1Deployment after)
    {
        if (KubernetesJson.Serialize(before) == KubernetesJson.Serialize(after))
        {
            return after;
        }

        var specChanged = KubernetesJson.Serialize(before.Spec) != KubernetesJson.Serialize(after.Spec);
        if (specChanged)
        {
            after.Metadata.Generation = (before.Metadata.Generation ?? 0) + 1;
        }

        Store(after, "MODIFIED");
        var response = Clone(_deployments[after.Metadata.Name]);
        if (specChanged && Controller is { } controller)
        {
            var rolledOut = Clone(response);
            rolledOut.Status = controller(rolledOut);
            Store(rolledOut, "MODIFIED");
        }

        return response;
    }

    private void Store(V1Deployment deployment, string type)
    {
        deployment.Metadata.ResourceVersion = (++_resourceVersion).ToString(CultureInfo.InvariantCulture);
        _deployments[deployment.Metadata.Name] = Clone(deployment);
        _events.Add((_resourceVersion, deployment.Metadata.Name, type, KubernetesJson.Serialize(deployment)));
        Signal();
    }

    private async Task StreamWatchAsync(HttpContext context, string name, long? from, Dictionary<string, string> query)
    {
        var timeout = int.TryParse(query.GetValueOrDefault("timeoutSeconds"), CultureInfo.InvariantCulture, out var seconds) ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromMinutes(30);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        stop.CancelAfter(timeout);
        try
        {
            await context.Response.StartAsync(stop.Token);
            if (from is { } version && version < CompactedBelow)
            {
                var gone = $$"""{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: {{version}} ({{CompactedBelow}})","reason":"Expired","code":410}""";
                await WriteLineAsync(context, $$"""{"type":"ERROR","object":{{gone}}}""", stop.Token);
                return;
            }

            long sent;
            if (from is null)
            {
                // Without a resourceVersion a watch starts with the current state, as a synthetic ADDED event.
                string current;
                lock (_gate)
                {
                    sent = _resourceVersion;
                    current = _deployments.TryGetValue(name, out var d) ? KubernetesJson.Serialize(d) : "";
                }

                if (current.Length > 0)
                {
                    await WriteLineAsync(context, $$"""{"type":"ADDED","object":{{current}}}""", stop.Token);
                }
            }
            else
            {
                sent = from.Value;
            }

            while (true)
            {
                List<string> pending;
                Task changed;
                lock (_gate)
                {
                    pending = [.. _events.Where(e => e.Name == name && e.ResourceVersion > sent).Select(e => $$"""{"type":"{{e.Type}}","object":{{e.Json}}}""")];
                    sent = _resourceVersion;
                    changed = _changed.Task;
                }

                foreach (var line in pending)
                {
                    await WriteLineAsync(context, line, stop.Token);
                }

                await changed.WaitAsync(stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away, the server's timeoutSeconds passed, or the fake is stopping: the stream ends.
        }
    }

    private static async Task WriteLineAsync(HttpContext context, string line, CancellationToken cancellationToken)
    {
        await context.Response.WriteAsync(line + "\n", cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
    }

    private static JsonNode? Merge(JsonNode? target, JsonNode? patch, bool strategic)
    {
        if (patch is JsonObject patchObject)
        {
            var result = target is JsonObject targetObject ? (JsonObject)targetObject.DeepClone() : [];
            foreach (var (key, value) in patchObject)
            {
                if (value is null)
                {
                    result.Remove(key);
                }
                else
                {
                    result[key] = Merge(result[key]?.DeepClone(), value.DeepClone(), strategic);
                }
            }

            return result;
        }

        // Strategic merge: lists of named items (containers, env) merge item by item on "name".
        if (strategic && patch is JsonArray patchArray && target is JsonArray targetArray && patchArray.All(e => e?["name"] is not null))
        {
            var result = new JsonArray([.. targetArray.Select(e => e?.DeepClone())]);
            foreach (var item in patchArray)
            {
                var name = item!["name"]!.GetValue<string>();
                var index = result.Select((e, i) => (e, i)).FirstOrDefault(x => x.e?["name"]?.GetValue<string>() == name, (null, -1)).Item2;
                if (index >= 0)
                {
                    result[index] = Merge(result[index]?.DeepClone(), item.DeepClone(), strategic);
                }
                else
                {
                    result.Add(item.DeepClone());
                }
            }

            return result;
        }

        return patch?.DeepClone();
    }

    private static V1Scale ScaleOf(V1Deployment deployment) => new()
    {
        ApiVersion = "autoscaling/v1",
        Kind = "Scale",
        Metadata = new V1ObjectMeta { Name = deployment.Metadata.Name, NamespaceProperty = Namespace, ResourceVersion = deployment.Metadata.ResourceVersion },
        Spec = new V1ScaleSpec { Replicas = deployment.Spec.Replicas },
        Status = new V1ScaleStatus { Replicas = deployment.Status?.Replicas ?? 0, Selector = $"app.kubernetes.io/instance={deployment.Metadata.Name}" },
    };

    /// <summary>A Status body worded as the API server words it.</summary>
    private static string StatusBody(HttpStatusCode code, string method, string path)
    {
        var name = path.Split('/').Reverse().SkipWhile(s => s == "scale").FirstOrDefault() ?? "";
        var (reason, message) = code switch
        {
            HttpStatusCode.Forbidden => ("Forbidden", $"deployments.apps \"{name}\" is forbidden: User \"system:serviceaccount:{Namespace}:rollout-api\" cannot {method.ToLowerInvariant()} resource \"deployments\" in API group \"apps\" in the namespace \"{Namespace}\""),
            HttpStatusCode.Conflict => ("Conflict", $"Operation cannot be fulfilled on deployments.apps \"{name}\": the object has been modified; please apply your changes to the latest version and try again"),
            HttpStatusCode.NotFound => ("NotFound", $"deployments.apps \"{name}\" not found"),
            _ => (code.ToString(), $"{method} {path} failed"),
        };
        return new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = (int)code,
        }.ToJsonString();
    }

    private void Signal()
    {
        var previous = _changed;
        _changed = NewSignal();
        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static V1Deployment Clone(V1Deployment deployment) => KubernetesJson.Deserialize<V1Deployment>(KubernetesJson.Serialize(deployment));

    [GeneratedRegex("^/apis/apps/v1/namespaces/([^/]+)/")]
    private static partial Regex NamespaceOf();

    [GeneratedRegex($"^/apis/apps/v1/namespaces/{Namespace}/deployments/([^/]+)(/scale)?$")]
    private static partial Regex Item();

    [GeneratedRegex("^metadata\\.name=([a-z0-9.-]+)$")]
    private static partial Regex FieldSelector();
}
