using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgentAspire.Contracts;
using Microsoft.Extensions.Options;

namespace RolloutApi.Drivers.Local;

/// <summary>
/// The driver for <c>dotnet run --project AppHost</c>. Aspire runs both tracks; a revision with a <c>build</c> runs that
/// stored build, so deploying it asks the AppHost's track controller to restart the track on it (through Aspire's own
/// restart command) and returns once the agent itself reports the build from a ready process. A revision without a build
/// is a version label and a flag set: the tracks keep the build they run (the working copy's), and nothing restarts.
/// </summary>
internal sealed partial class LocalTrackDriver(
    IHttpClientFactory httpClients, IOptions<LocalTrackDriverOptions> options, ILogger<LocalTrackDriver> logger) : ITrackDriver
{
    public const string DriverName = TrackDriverNames.Local;
    public const string HttpClientName = "local-track-driver";

    // The build each track was last moved onto by this process (null: the working copy). A revision on the same build needs
    // no call at all: its version label and flags travel in the streams, and no process restarts. Forgotten on restart, so
    // the first deploy after it asks the AppHost once (which answers at once when nothing changes).
    private readonly ConcurrentDictionary<string, string?> _running = new(StringComparer.Ordinal);

    public string Name => DriverName;

    public async Task DeployAsync(string track, RevisionSpec revision, CancellationToken cancellationToken)
    {
        if (!options.Value.HasController)
        {
            if (revision.Build is not null)
            {
                throw new LocalTrackDriverException(
                    $"Revision {revision.Number} names build {revision.Build}, but no AppHost track controller is configured ({LocalTrackDriverOptions.SectionName}:ControlUrl): run RolloutApi under the AppHost to run builds.");
            }

            return;
        }

        if (_running.TryGetValue(track, out var running) && running == revision.Build)
        {
            return;
        }

        // Forget first: if the AppHost fails half-way, the next call asks again instead of trusting a stale entry.
        _running.TryRemove(track, out _);
        using var client = Client();
        using var response = await client.PutAsJsonAsync($"/tracks/{Uri.EscapeDataString(track)}",
            new DeployRequest(revision.Build, revision.Version, revision.Number), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new LocalTrackDriverException(
                $"The AppHost did not move the {track} track onto revision {revision.Number}: {(int)response.StatusCode} {await ProblemDetailAsync(response, cancellationToken)}");
        }

        var state = await response.Content.ReadFromJsonAsync<DeployAnswer>(cancellationToken);
        // The agent's own word, relayed: the build it says it runs is the revision's (the working copy's own id otherwise).
        if (revision.Build is { } build && state?.Identity?.Build != build)
        {
            throw new LocalTrackDriverException($"The {track} track reports build {state?.Identity?.Build}, not {build}.");
        }

        _running[track] = revision.Build;
        Log.Deployed(logger, track, revision.Number, state?.Identity?.Build ?? "?", state?.Restarted ?? false, state?.Identity?.ProcessId ?? 0);
    }

    // Locally both tracks always run; an idle canary keeps its process (forced traffic to it is refused after an abort).
    public Task ScaleAsync(string agent, string track, int replicas, CancellationToken cancellationToken) => Task.CompletedTask;

    public bool RestartsToRun(RevisionSpec running, RevisionSpec next) =>
        options.Value.HasController && !string.Equals(running.Build, next.Build, StringComparison.Ordinal);

    public async Task<string?> CheckRevisionAsync(RevisionSpec revision, CancellationToken cancellationToken)
    {
        if (revision.Build is not { } build)
        {
            return null;
        }

        if (!options.Value.HasController)
        {
            return "This RolloutApi runs without the AppHost's track controller, so it cannot run a build; run it with dotnet run --project AppHost.";
        }

        using var client = Client();
        using var response = await client.GetAsync($"/builds/{Uri.EscapeDataString(build)}", cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => null,
            HttpStatusCode.NotFound or HttpStatusCode.BadRequest => await ProblemDetailAsync(response, cancellationToken),
            _ => throw new LocalTrackDriverException($"The AppHost could not check build {build}: {(int)response.StatusCode}."),
        };
    }

    private HttpClient Client()
    {
        var client = httpClients.CreateClient(HttpClientName);
        client.BaseAddress = options.Value.ControlUrl;
        client.Timeout = options.Value.DeployTimeout;
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Value.Token);
        return client;
    }

    private static async Task<string> ProblemDetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var problem = JsonDocument.Parse(text);
            return problem.RootElement.TryGetProperty("detail", out var detail) ? detail.GetString() ?? text : text;
        }
        catch (JsonException)
        {
            return text;
        }
    }

    private sealed record DeployRequest(
        [property: JsonPropertyName("build")] string? Build,
        [property: JsonPropertyName("version")] string Version,
        [property: JsonPropertyName("revision")] int Revision);

    private sealed record DeployAnswer(
        [property: JsonPropertyName("restarted")] bool Restarted,
        [property: JsonPropertyName("identity")] IdentityAnswer? Identity);

    private sealed record IdentityAnswer(
        [property: JsonPropertyName("build")] string Build,
        [property: JsonPropertyName("processId")] int ProcessId);

    private static partial class Log
    {
        [LoggerMessage(EventId = 3410, Level = LogLevel.Information, Message = "Local {Track} track runs revision {Revision}: build {Build} (restarted: {Restarted}, process {ProcessId})")]
        public static partial void Deployed(ILogger logger, string track, int revision, string build, bool restarted, int processId);
    }
}

/// <summary>The AppHost refused or could not complete a track change.</summary>
public sealed class LocalTrackDriverException(string message) : Exception(message);
