using System.Net.Http.Json;
using System.Text.Json.Serialization;
using AgentAspire.Contracts;
using AppHost.Agents;
using AppHost.Builds;
using Microsoft.Extensions.Logging;

namespace AppHost.Local;

/// <summary>What a track runs now, in the agent's own words (its <c>/identity</c>), after a deploy.</summary>
public sealed record TrackState(
    [property: JsonPropertyName("track")] string Track,
    [property: JsonPropertyName("resource")] string Resource,
    [property: JsonPropertyName("build")] string? Build,
    [property: JsonPropertyName("restarted")] bool Restarted,
    [property: JsonPropertyName("identity")] AgentIdentityView Identity);

/// <summary>The fields of an agent's <c>GET /identity</c> the controller checks.</summary>
public sealed record AgentIdentityView(
    [property: JsonPropertyName("agent")] string Agent,
    [property: JsonPropertyName("track")] string Track,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("revision")] int? Revision,
    [property: JsonPropertyName("build")] string Build,
    [property: JsonPropertyName("instance")] string Instance,
    [property: JsonPropertyName("processId")] int ProcessId);

/// <summary>
/// Moves a local track onto a build through Aspire's own resource model: it sets the target the track's arguments are
/// computed from, restarts the resource with Aspire's restart command when the running build differs, and returns once
/// the agent itself reports the new build from a new process and answers its readiness probe.
/// </summary>
public sealed partial class TrackController(
    TrackLaunches launches,
    IReadOnlyDictionary<string, IResourceWithEndpoints> tracks,
    ResourceCommandService commands,
    IHttpClientFactory httpClients,
    TimeProvider time,
    ILogger<TrackController> logger)
{
    /// <summary>How long a track may take from the restart command to answering ready on its new build.</summary>
    public static readonly TimeSpan DeployTimeout = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    private readonly Dictionary<string, SemaphoreSlim> _gates = tracks.Keys.ToDictionary(k => k, _ => new SemaphoreSlim(1, 1), StringComparer.Ordinal);

    public IEnumerable<string> Tracks => tracks.Keys;

    public BuildStore Store => launches.Store;

    /// <summary>
    /// Makes <paramref name="track"/> run <paramref name="target"/>. Idempotent: a track already running the target's build is
    /// not restarted (its version label and revision follow the flag stream without a restart).
    /// </summary>
    public async Task<TrackState> DeployAsync(string track, TrackTarget target, CancellationToken cancellationToken)
    {
        if (!tracks.TryGetValue(track, out var resource))
        {
            throw new UnknownTrackException(track);
        }

        if (target.Build is { } build)
        {
            // Refuse a missing or altered build before touching the running process.
            launches.Store.Verify(build);
        }

        var gate = _gates[track];
        await gate.WaitAsync(cancellationToken);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(DeployTimeout);
            launches.SetTarget(resource.Name, target);
            // Not started yet: its first start computes its arguments from the target just set (or from the one before, if it
            // was already computing them; then it is restarted below like any track on another build).
            var launched = launches.LastLaunch(resource.Name) ?? await WaitForFirstLaunchAsync(resource, deadline.Token);
            if (launched.Target.Build == target.Build)
            {
                var current = await WaitForAgentAsync(resource, launched.BuildId, notInstance: null, deadline.Token);
                return new TrackState(track, resource.Name, target.Build, Restarted: false, current);
            }

            var before = await TryReadIdentityAsync(resource, deadline.Token);
            Log.Restarting(logger, resource.Name, launched.BuildId, target.Build ?? "working copy");
            var result = await commands.ExecuteCommandAsync(resource, KnownResourceCommands.RestartCommand, deadline.Token);
            if (!result.Success)
            {
                throw new TrackDeployException($"Aspire could not restart {resource.Name}: {result.Message ?? "no reason given"}.");
            }

            var relaunch = await WaitForLaunchAsync(resource, after: launched.Sequence, deadline.Token);
            var identity = await WaitForAgentAsync(resource, relaunch.BuildId, before?.Instance, deadline.Token);
            Log.Restarted(logger, resource.Name, identity.Build, identity.ProcessId);
            return new TrackState(track, resource.Name, target.Build, Restarted: true, identity);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TrackDeployException($"{resource.Name} did not report build {target.Build ?? "(working copy)"} from a ready process within {DeployTimeout.TotalSeconds:0} s.");
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>What each track runs now, as each agent says (null identity when it does not answer).</summary>
    public async Task<IReadOnlyList<object>> StatusAsync(CancellationToken cancellationToken)
    {
        var states = new List<object>();
        foreach (var (track, resource) in tracks)
        {
            var launch = launches.LastLaunch(resource.Name);
            states.Add(new
            {
                track,
                resource = resource.Name,
                build = launches.TargetOf(resource.Name).Build,
                launchedBuild = launch?.BuildId,
                identity = await TryReadIdentityAsync(resource, cancellationToken),
            });
        }

        return states;
    }

    private Task<TrackLaunch> WaitForFirstLaunchAsync(IResourceWithEndpoints resource, CancellationToken cancellationToken) =>
        WaitForLaunchAsync(resource, after: 0, cancellationToken);

    /// <summary>Waits until Aspire has computed the arguments of a start of <paramref name="resource"/> later than <paramref name="after"/>.</summary>
    private async Task<TrackLaunch> WaitForLaunchAsync(IResourceWithEndpoints resource, long after, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (launches.LastLaunch(resource.Name) is { } launch && launch.Sequence > after)
            {
                return launch;
            }

            await Task.Delay(PollInterval, time, cancellationToken);
        }
    }

    /// <summary>Polls the agent until it reports <paramref name="build"/> from a process other than <paramref name="notInstance"/> and is ready.</summary>
    private async Task<AgentIdentityView> WaitForAgentAsync(
        IResourceWithEndpoints resource, string build, string? notInstance, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await TryReadIdentityAsync(resource, cancellationToken) is { } identity
                && identity.Build == build && identity.Instance != notInstance
                && await IsReadyAsync(resource, cancellationToken))
            {
                return identity;
            }

            await Task.Delay(PollInterval, time, cancellationToken);
        }
    }

    private async Task<AgentIdentityView?> TryReadIdentityAsync(IResourceWithEndpoints resource, CancellationToken cancellationToken)
    {
        try
        {
            using var client = Client(resource);
            return await client.GetFromJsonAsync<AgentIdentityView>(AgentPaths.Identity, cancellationToken);
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            // The endpoint has no allocated address yet (the resource has not started).
            return null;
        }
    }

    private async Task<bool> IsReadyAsync(IResourceWithEndpoints resource, CancellationToken cancellationToken)
    {
        try
        {
            using var client = Client(resource);
            using var response = await client.GetAsync("/health", cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private HttpClient Client(IResourceWithEndpoints resource)
    {
        var client = httpClients.CreateClient(nameof(TrackController));
        client.BaseAddress = new Uri(resource.GetEndpoint(AgentTrackBuilderExtensions.AgentTrackEndpoint).Url);
        client.Timeout = TimeSpan.FromSeconds(5);
        return client;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 8100, Level = LogLevel.Information, Message = "Restarting {Resource} (was build {From}) to run build {To}")]
        public static partial void Restarting(ILogger logger, string resource, string from, string to);

        [LoggerMessage(EventId = 8101, Level = LogLevel.Information, Message = "{Resource} runs build {Build} (process {ProcessId})")]
        public static partial void Restarted(ILogger logger, string resource, string build, int processId);
    }
}

/// <summary>A track name the controller does not know.</summary>
public sealed class UnknownTrackException(string track) : Exception($"No local track named '{track}' (stable or canary).");

/// <summary>A deploy that Aspire or the agent did not complete.</summary>
public sealed class TrackDeployException(string message) : Exception(message);
