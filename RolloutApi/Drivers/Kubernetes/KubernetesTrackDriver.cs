using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentAspire.Contracts;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Options;
using RolloutApi.Hosting;

namespace RolloutApi.Drivers.Kubernetes;

// Over 400 lines on purpose: one driver is one conversation with the cluster (read the Deployment, patch image and
// replicas, wait for the rollout to be observed and available, report), and splitting it would scatter that sequence.

/// <summary>
/// Runs each track as a Deployment: a deploy patches the track's image (and version label) and watches the Deployment
/// until the new generation is available; scaling goes through the <c>scale</c> subresource; in replica-ratio mode the
/// weight becomes replica counts. Every call is idempotent, as <see cref="ITrackDriver"/> requires. See README.md.
/// </summary>
internal sealed partial class KubernetesTrackDriver(
    KubernetesClientHandle client,
    IOptions<KubernetesTrackDriverOptions> options,
    IOptions<RolloutApiOptions> rolloutOptions,
    IOptions<AgentCatalogOptions> agents,
    TimeProvider timeProvider,
    ILogger<KubernetesTrackDriver> logger) : ITrackDriver
{
    public const string DriverName = TrackDriverNames.Kubernetes;

    private const string Deployments = "deployments";
    private const string DeploymentScale = "deployments/scale";

    /// <summary>The first back-off after a 409 or an empty watch; it grows linearly with each attempt.</summary>
    private static readonly TimeSpan RetryBackoff = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest a single watch request stays open; the wait re-reads and watches again until its deadline.</summary>
    private static readonly TimeSpan MaxWatchDuration = TimeSpan.FromMinutes(5);

    public string Name => DriverName;

    private KubernetesTrackDriverOptions Options => options.Value;

    private string Namespace => Options.Namespace ?? KubernetesTrackDriverOptions.FallbackNamespace;

    private IAppsV1Operations Apps => client.Client.AppsV1;

    /// <summary>
    /// Patches the track's container to the revision's image (<c>repository:tag</c>, or <c>repository@sha256:…</c>) and
    /// waits until every replica runs it.
    /// A canary found at zero replicas is first given <c>RolloutApi:CanaryReplicas</c> and a stable track at zero
    /// <see cref="KubernetesTrackDriverOptions.TotalReplicas"/>, in the same patch: "available" must mean that pods of
    /// the revision are serving, which a Deployment without replicas always claims.
    /// </summary>
    public async Task DeployAsync(string track, RevisionSpec revision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(revision);
        EnsureTrack(track);
        if (string.IsNullOrWhiteSpace(revision.ImageTag) || string.Equals(revision.ImageTag, "latest", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"Revision {revision.Number} of {revision.Agent} has image tag '{revision.ImageTag}': a revision needs an immutable tag.", nameof(revision));
        }

        var name = DeploymentName(revision.Agent, track);
        await WithDeadlineAsync(name, async (progress, token) =>
        {
            var patched = await RetryOnConflictAsync(name, async () =>
            {
                var current = await CallAsync("get", Deployments, name, () => Apps.ReadNamespacedDeploymentAsync(name, Namespace, cancellationToken: token));
                var body = PatchFor(current, track, revision);
                return await CallAsync("patch", Deployments, name, () =>
                    Apps.PatchNamespacedDeploymentAsync(new V1Patch(body, V1Patch.PatchType.StrategicMergePatch), name, Namespace, cancellationToken: token));
            }, token);

            var generation = patched.Metadata?.Generation ?? 0;
            Log.Patched(logger, Namespace, name, revision.Agent, revision.Number, revision.ImageTag, generation);
            await WaitUntilAvailableAsync(name, patched, generation, progress, token);
        }, cancellationToken);
    }

    /// <summary>
    /// Sets the replicas through the <c>scale</c> subresource and returns once the API server accepted them (no wait:
    /// scaling to zero has nothing to wait for, and a scale-up's pods run a revision that was already awaited). In
    /// replica-ratio mode the weight owns the canary's size, so a non-zero request only ever raises it.
    /// </summary>
    public async Task ScaleAsync(string agent, string track, int replicas, CancellationToken cancellationToken)
    {
        EnsureTrack(track);
        ArgumentOutOfRangeException.ThrowIfNegative(replicas);
        var name = DeploymentName(agent, track);
        if (Options.Mode == KubernetesTrackMode.ReplicaRatio && track == Tracks.Canary && replicas > 0)
        {
            var current = await ReadReplicasAsync(name, cancellationToken);
            if (current >= replicas)
            {
                Log.ScaleKeptByRatio(logger, Namespace, name, current, replicas);
                return;
            }
        }

        await PatchReplicasAsync(name, replicas, cancellationToken);
    }

    /// <summary>
    /// Gateway mode: nothing (the gateway splits requests). Replica-ratio mode: scales the tracks to
    /// <see cref="ReplicaSplit.For"/> of <see cref="KubernetesTrackDriverOptions.TotalReplicas"/>. A growing canary is
    /// scaled first and awaited before the stable track shrinks, so capacity never drops on a canary that cannot start
    /// (Argo's surge-first order). A shrinking canary, which is what an abort is, is scaled down first and nothing is
    /// awaited: taking work away from the canary is the point and must not wait for stable pods to start.
    /// </summary>
    public async Task ApplyWeightAsync(string agent, int weight, CancellationToken cancellationToken)
    {
        if (Options.Mode != KubernetesTrackMode.ReplicaRatio)
        {
            return;
        }

        var split = ReplicaSplit.For(weight, Options.TotalReplicas);
        var canary = DeploymentName(agent, Tracks.Canary);
        var stable = DeploymentName(agent, Tracks.Stable);
        var canaryNow = await ReadReplicasAsync(canary, cancellationToken);
        Log.ApplyingRatio(logger, Namespace, agent, weight, split.Stable, split.Canary, canaryNow);
        if (split.Canary > canaryNow)
        {
            await PatchReplicasAsync(canary, split.Canary, cancellationToken);
            await WithDeadlineAsync(canary, async (progress, token) =>
            {
                // Re-read: the scale patch bumped the generation, and the wait needs it and a resourceVersion to watch from.
                var current = await CallAsync("get", Deployments, canary, () => Apps.ReadNamespacedDeploymentAsync(canary, Namespace, cancellationToken: token));
                await WaitUntilAvailableAsync(canary, current, current.Metadata?.Generation ?? 0, progress, token);
            }, cancellationToken);
            await PatchReplicasAsync(stable, split.Stable, cancellationToken);
        }
        else
        {
            await PatchReplicasAsync(canary, split.Canary, cancellationToken);
            await PatchReplicasAsync(stable, split.Stable, cancellationToken);
        }
    }

    private string PatchFor(V1Deployment current, string track, RevisionSpec revision)
    {
        var name = current.Metadata?.Name ?? DeploymentName(revision.Agent, track);
        var containers = current.Spec?.Template?.Spec?.Containers ?? [];
        var container = string.IsNullOrEmpty(Options.Container)
            ? containers.FirstOrDefault()
            : containers.FirstOrDefault(c => string.Equals(c.Name, Options.Container, StringComparison.Ordinal));
        if (container is null)
        {
            var wanted = string.IsNullOrEmpty(Options.Container) ? "any container" : $"a container named '{Options.Container}'";
            throw new KubernetesTrackDriverException(
                $"Deployment {Namespace}/{name} has no {wanted} (containers: {string.Join(", ", containers.Select(c => c.Name))}); check {KubernetesTrackDriverOptions.SectionName}:Container.",
                "patch", Deployments, Namespace, name, statusCode: null);
        }

        // Most specific first: the agent's own repository from the catalog, then the driver's, then whatever the
        // container runs now (so that, unconfigured, a deploy changes the tag and nothing else).
        var repository = agents.Value.Agents.TryGetValue(revision.Agent, out var agent) && !string.IsNullOrEmpty(agent.Image)
            ? agent.Image
            : !string.IsNullOrEmpty(Options.ImageRepository) ? Options.ImageRepository : DeploymentPatches.RepositoryOf(container.Image ?? "");
        if (string.IsNullOrEmpty(repository))
        {
            throw new KubernetesTrackDriverException(
                $"Deployment {Namespace}/{name}: container '{container.Name}' has no image to take the repository from; set {KubernetesTrackDriverOptions.SectionName}:ImageRepository.",
                "patch", Deployments, Namespace, name, statusCode: null);
        }

        int? replicas = null;
        if ((current.Spec?.Replicas ?? 1) == 0)
        {
            replicas = track == Tracks.Canary ? rolloutOptions.Value.CanaryReplicas : ReplicaSplit.For(0, Options.TotalReplicas).Stable;
            Log.ScalingUpIdle(logger, Namespace, name, replicas.Value);
        }

        return DeploymentPatches.ForRevision(revision, container.Name, DeploymentPatches.ImageOf(repository, revision.ImageTag), Options.VersionEnvironmentVariable, replicas);
    }

    /// <summary>
    /// Watches the Deployment (by <c>fieldSelector=metadata.name=…</c>, from the resourceVersion last seen) until the
    /// generation is available. When a watch ends — the server's timeout, or an ERROR event such as 410 Gone for a
    /// compacted resourceVersion — the Deployment is read again and watched from the fresh version: list, then watch.
    /// </summary>
    private async Task WaitUntilAvailableAsync(string name, V1Deployment start, long generation, WaitProgress progress, CancellationToken cancellationToken)
    {
        var current = start;
        progress.Generation = generation;
        for (var emptyWatches = 0; ; )
        {
            progress.Latest = current;
            var readiness = DeploymentReadiness.Evaluate(current, generation);
            if (readiness.IsAvailable)
            {
                Log.Available(logger, Namespace, name, readiness.Reason);
                return;
            }

            if (readiness.HasFailed)
            {
                throw new KubernetesTrackDriverException(
                    $"Deployment {Namespace}/{name} failed to roll out generation {generation}: {readiness.Reason}.",
                    "watch", Deployments, Namespace, name, statusCode: null);
            }

            Log.Waiting(logger, Namespace, name, readiness.Reason);
            var (latest, events) = await WatchAsync(name, current, generation, progress, cancellationToken);
            if (latest is not null && DeploymentReadiness.Evaluate(latest, generation).State != DeploymentReadinessState.Waiting)
            {
                current = latest;
                continue;
            }

            // The watch ended undecided. Back off only when it brought nothing, so a server that keeps closing
            // watches at once cannot spin this loop; then read afresh and watch again.
            emptyWatches = events == 0 ? emptyWatches + 1 : 0;
            if (emptyWatches > 0)
            {
                await Task.Delay(RetryBackoff * Math.Min(emptyWatches, 10), timeProvider, cancellationToken);
            }

            current = await CallAsync("get", Deployments, name, () => Apps.ReadNamespacedDeploymentAsync(name, Namespace, cancellationToken: cancellationToken));
        }
    }

    /// <summary>One watch request: returns as soon as an event decides the wait, or when the server ends the stream.</summary>
    private async Task<(V1Deployment? Decided, int Events)> WatchAsync(string name, V1Deployment from, long generation, WaitProgress progress, CancellationToken cancellationToken)
    {
        var resourceVersion = from.Metadata?.ResourceVersion;
        var events = 0;
        Exception? streamError = null;
        var seconds = (int)Math.Ceiling(Math.Min(Options.AvailabilityTimeout.TotalSeconds, MaxWatchDuration.TotalSeconds));
        try
        {
            var stream = Apps.WatchListNamespacedDeploymentAsync(
                Namespace,
                allowWatchBookmarks: true,
                fieldSelector: $"metadata.name={name}",
                resourceVersion: resourceVersion,
                timeoutSeconds: Math.Max(1, seconds),
                onError: e => streamError = e,
                cancellationToken: cancellationToken);
            await foreach (var (type, deployment) in stream.WithCancellation(cancellationToken))
            {
                events++;
                switch (type)
                {
                    case WatchEventType.Added or WatchEventType.Modified when deployment is not null:
                        progress.Latest = deployment;
                        if (DeploymentReadiness.Evaluate(deployment, generation).State != DeploymentReadinessState.Waiting)
                        {
                            return (deployment, events);
                        }

                        break;
                    case WatchEventType.Deleted:
                        throw new KubernetesTrackDriverException(
                            $"Deployment {Namespace}/{name} was deleted while waiting for generation {generation} to become available.",
                            "watch", Deployments, Namespace, name, HttpStatusCode.NotFound);
                    default:
                        // Bookmarks carry only a resourceVersion; the next watch starts from a fresh read anyway.
                        break;
                }
            }
        }
        catch (HttpOperationException e)
        {
            throw Translate(e, "watch", Deployments, name);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e, "watch", Deployments, name);
        }

        if (streamError is not null)
        {
            Log.WatchEnded(logger, Namespace, name, streamError.Message);
        }

        return (null, events);
    }

    private async Task<int> ReadReplicasAsync(string name, CancellationToken cancellationToken)
    {
        var scale = await CallAsync("get", DeploymentScale, name, () => Apps.ReadNamespacedDeploymentScaleAsync(name, Namespace, cancellationToken: cancellationToken));
        return scale.Spec?.Replicas ?? 0;
    }

    private async Task PatchReplicasAsync(string name, int replicas, CancellationToken cancellationToken)
    {
        await RetryOnConflictAsync(name, () => CallAsync("patch", DeploymentScale, name, () =>
            Apps.PatchNamespacedDeploymentScaleAsync(
                new V1Patch(DeploymentPatches.ForReplicas(replicas), V1Patch.PatchType.MergePatch), name, Namespace, cancellationToken: cancellationToken)),
            cancellationToken);
        Log.Scaled(logger, Namespace, name, replicas);
    }

    /// <summary>
    /// Runs <paramref name="wait"/> under <see cref="KubernetesTrackDriverOptions.AvailabilityTimeout"/>; running out of
    /// time becomes a <see cref="TimeoutException"/> that says what was not ready, while the caller's own cancellation
    /// stays an <see cref="OperationCanceledException"/>.
    /// </summary>
    private async Task WithDeadlineAsync(string name, Func<WaitProgress, CancellationToken, Task> wait, CancellationToken cancellationToken)
    {
        var timeout = Options.AvailabilityTimeout;
        using var deadline = new CancellationTokenSource(timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var progress = new WaitProgress();
        try
        {
            await wait(progress, linked.Token);
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var state = progress.Latest is { } latest
                ? DeploymentReadiness.Evaluate(latest, progress.Generation).Reason
                : "its state was never read";
            throw new TimeoutException($"Deployment {Namespace}/{name} did not become available within {timeout}: {state}.", e);
        }
    }

    private async Task<T> RetryOnConflictAsync<T>(string name, Func<Task<T>> attempt, CancellationToken cancellationToken)
    {
        for (var tries = 1; ; tries++)
        {
            try
            {
                return await attempt();
            }
            catch (KubernetesTrackDriverException e) when (e.StatusCode == HttpStatusCode.Conflict)
            {
                if (tries > Options.ConflictRetries)
                {
                    throw new KubernetesTrackDriverException(
                        $"{e.Message} Still conflicting after {tries} attempts; giving up.", e.Verb, e.Resource, e.Namespace, e.Name, e.StatusCode, e);
                }

                Log.Conflict(logger, Namespace, name, tries, Options.ConflictRetries + 1);
                await Task.Delay(RetryBackoff * tries, timeProvider, cancellationToken);
            }
        }
    }

    private async Task<T> CallAsync<T>(string verb, string resource, string name, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (HttpOperationException e)
        {
            throw Translate(e, verb, resource, name);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e, verb, resource, name);
        }
    }

    private KubernetesTrackDriverException Unreachable(HttpRequestException e, string verb, string resource, string name) =>
        new($"Could not reach the Kubernetes API to {verb} {resource} '{name}' in namespace '{Namespace}': {e.Message}", verb, resource, Namespace, name, statusCode: null, e);

    private KubernetesTrackDriverException Translate(HttpOperationException e, string verb, string resource, string name)
    {
        var status = e.Response?.StatusCode;
        var said = ServerMessage(e);
        var message = status switch
        {
            HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized =>
                $"Kubernetes refused to {verb} {resource} '{name}' in namespace '{Namespace}' ({(int)status} {status}): RolloutApi's service account needs " +
                $"RBAC verb '{verb}' on apps/{resource} in that namespace (the published Role grants it). Server said: {said}",
            HttpStatusCode.NotFound =>
                $"Kubernetes has no {resource} '{name}' in namespace '{Namespace}' (404) to {verb}: check {KubernetesTrackDriverOptions.SectionName}:Namespace " +
                $"and :DeploymentNameFormat ('{Options.DeploymentNameFormat}'). Server said: {said}",
            HttpStatusCode.Conflict =>
                $"Kubernetes answered 409 Conflict to {verb} {resource} '{name}' in namespace '{Namespace}'. Server said: {said}",
            _ =>
                $"Kubernetes failed to {verb} {resource} '{name}' in namespace '{Namespace}' ({(status is null ? "no response" : $"{(int)status} {status}")}). Server said: {said}",
        };
        return new KubernetesTrackDriverException(message, verb, resource, Namespace, name, status, e);
    }

    /// <summary>The <c>message</c> of the API server's Status body when it sent one, else the raw body.</summary>
    private static string ServerMessage(HttpOperationException e)
    {
        var body = e.Response?.Content;
        if (string.IsNullOrWhiteSpace(body))
        {
            return e.Message;
        }

        try
        {
            return KubernetesJson.Deserialize<V1Status>(body)?.Message ?? body;
        }
        catch (JsonException)
        {
            return body;
        }
    }

    private string DeploymentName(string agent, string track)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(agent);
        var name = Options.DeploymentNameFormat.Replace("{agent}", agent, StringComparison.Ordinal).Replace("{track}", track, StringComparison.Ordinal);
        if (name.Length > 253 || !DnsSubdomain().IsMatch(name))
        {
            throw new ArgumentException(
                $"'{name}' (from {KubernetesTrackDriverOptions.SectionName}:DeploymentNameFormat '{Options.DeploymentNameFormat}', agent '{agent}', track '{track}') is not a valid Deployment name.",
                nameof(agent));
        }

        return name;
    }

    private static void EnsureTrack(string track)
    {
        if (!Tracks.IsKnown(track))
        {
            throw new ArgumentOutOfRangeException(nameof(track), track, $"A track is '{Tracks.Stable}' or '{Tracks.Canary}'.");
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();

    /// <summary>The last state of the Deployment seen while waiting, for the timeout message.</summary>
    private sealed class WaitProgress
    {
        public V1Deployment? Latest { get; set; }

        public long Generation { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3400, Level = LogLevel.Information, Message = "Patched deployment {Namespace}/{Deployment}: {Agent} revision {Revision}, image tag {ImageTag}, generation {Generation}")]
        public static partial void Patched(ILogger logger, string @namespace, string deployment, string agent, int revision, string imageTag, long generation);

        [LoggerMessage(EventId = 3401, Level = LogLevel.Debug, Message = "Waiting for deployment {Namespace}/{Deployment}: {Reason}")]
        public static partial void Waiting(ILogger logger, string @namespace, string deployment, string reason);

        [LoggerMessage(EventId = 3402, Level = LogLevel.Information, Message = "Deployment {Namespace}/{Deployment} is available: {Reason}")]
        public static partial void Available(ILogger logger, string @namespace, string deployment, string reason);

        [LoggerMessage(EventId = 3403, Level = LogLevel.Information, Message = "Scaled deployment {Namespace}/{Deployment} to {Replicas} replicas")]
        public static partial void Scaled(ILogger logger, string @namespace, string deployment, int replicas);

        [LoggerMessage(EventId = 3404, Level = LogLevel.Warning, Message = "Conflict patching {Namespace}/{Deployment} (attempt {Attempt} of {Attempts}); retrying")]
        public static partial void Conflict(ILogger logger, string @namespace, string deployment, int attempt, int attempts);

        [LoggerMessage(EventId = 3405, Level = LogLevel.Information, Message = "Deployment {Namespace}/{Deployment} is at 0 replicas; the deploy patch scales it to {Replicas} so the revision is actually running when the deploy returns")]
        public static partial void ScalingUpIdle(ILogger logger, string @namespace, string deployment, int replicas);

        [LoggerMessage(EventId = 3406, Level = LogLevel.Debug, Message = "Watch of {Namespace}/{Deployment} ended: {Reason}; reading it again")]
        public static partial void WatchEnded(ILogger logger, string @namespace, string deployment, string reason);

        [LoggerMessage(EventId = 3407, Level = LogLevel.Information, Message = "Replica ratio for {Namespace}/{Agent} at weight {Weight}: stable {Stable}, canary {Canary} (canary now {CanaryNow})")]
        public static partial void ApplyingRatio(ILogger logger, string @namespace, string agent, int weight, int stable, int canary, int canaryNow);

        [LoggerMessage(EventId = 3408, Level = LogLevel.Debug, Message = "Deployment {Namespace}/{Deployment} keeps {Current} replicas (asked {Requested}): in replica-ratio mode the weight sizes the canary")]
        public static partial void ScaleKeptByRatio(ILogger logger, string @namespace, string deployment, int current, int requested);
    }
}
