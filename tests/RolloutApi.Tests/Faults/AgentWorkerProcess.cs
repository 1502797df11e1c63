using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentAspire.Contracts;
using AgentAspire.TestSupport;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Faults;

/// <summary>
/// The built AgentWorker.dll (the reference agent) as a real process on 127.0.0.1, configured as AppHost configures an
/// agent track: its identity (<c>Agent:*</c>), RolloutApi by service discovery (<c>services:rollout-api:http:0</c>, what
/// <c>WithReference(rolloutApi)</c> gives it) with the viewer key, and an upstream it posts each item to while its
/// <c>UpstreamCalls</c> flag is on. Everything a test asserts about it is the agent's own word: its answers, its
/// <c>/identity</c>, its <c>/identity/flags</c> and its Prometheus counters.
/// </summary>
public sealed class AgentWorkerProcess : IDisposable
{
    private const string ProcessedItems = "agent_processed_items_total";

    private readonly ServiceProcess _process;
    private readonly HttpClient _client;

    private AgentWorkerProcess(string name, ServiceProcess process)
    {
        Name = name;
        _process = process;
        _client = new HttpClient { Timeout = Deadline.Request };
    }

    /// <summary>The test's name for this process (e.g. <c>canary-2</c>); the agent's own identity is <see cref="IdentityAsync"/>.</summary>
    public string Name { get; }

    /// <summary>Where it listens; known once <see cref="WaitListeningAsync"/> (or <see cref="WaitReadyAsync"/>) returned.</summary>
    public Uri Address => _process.Address;

    /// <summary>What the process wrote (warnings and errors), for failure messages.</summary>
    public string Output => _process.Output;

    /// <summary>Starts one process of <paramref name="track"/>.</summary>
    /// <param name="rolloutApi">Where its flag stream connects (RolloutApi, or a relay in front of it).</param>
    /// <param name="directory">A test folder for its last-known flags file (one per process: replicas must not share one).</param>
    /// <param name="upstream">What it posts each item to while <c>UpstreamCalls</c> is on; null: no upstream, no call.</param>
    public static AgentWorkerProcess Start(string name, string track, Uri rolloutApi, string directory, Uri? upstream) =>
        new(name, ServiceProcess.Start($"AgentWorker {name}", ServiceProcess.ProjectDll("AgentWorker"), new Dictionary<string, string?>
        {
            [ConfigKeys.Agent.Name] = RolloutApiFactory.Agent,
            [ConfigKeys.Agent.Track] = track,
            [ConfigKeys.Agent.Version] = track == Tracks.Stable ? RolloutApiFactory.StableVersion : RolloutApiFactory.IdleCanaryVersion,
            [$"services:{ResourceNames.RolloutApi}:http:0"] = rolloutApi.ToString(),
            [ConfigKeys.Flags.ApiKey] = RolloutApiFactory.ViewerKey,
            ["Flags:CachePath"] = Path.Combine(directory, $"{name}.flags.json"),
            // Reconnect within a second once RolloutApi is back (as the gateways in these tests do); the default backoff
            // grows to 30 s, which would outlast the test, not change what it shows.
            ["Flags:ReconnectDelay"] = "00:00:00.100",
            ["Flags:MaxReconnectDelay"] = "00:00:01",
            [ConfigKeys.Worker.UpstreamUrl] = upstream?.ToString(),
        }));

    /// <summary>
    /// The <c>feature_management</c> section of AgentWorker's appsettings.json: the flags the agent ships, which AppHost hands
    /// RolloutApi as <c>Agents:{agent}:Flags</c> (<c>WithShippedFlags</c>) and which the agent serves until its first snapshot.
    /// </summary>
    public static string ShippedFlags()
    {
        var settings = JsonNode.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(ServiceProcess.ProjectDll("AgentWorker"))!, "appsettings.json")));
        return settings?["feature_management"]?.ToJsonString() ?? throw new InvalidOperationException("AgentWorker ships no feature_management section.");
    }

    /// <summary>Returns once Kestrel listens (its address is known; the app may not be ready yet).</summary>
    public Task WaitListeningAsync(TimeSpan timeout) => _process.WaitListeningAsync(timeout);

    /// <summary>Returns once its <c>/health</c> answers 200: workers running and flags from RolloutApi (or its ready timeout passed).</summary>
    public Task WaitReadyAsync(TimeSpan timeout) => _process.WaitOkAsync(HealthPaths.Health, timeout);

    /// <summary>Its own <c>/identity</c>: the instance it stamps on every answer (<c>X-Agent-Instance</c>).</summary>
    public async Task<string> IdentityAsync()
    {
        using var response = await _client.GetAsync(new Uri(Address, AgentPaths.Identity)).WaitAsync(Deadline.Request);
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("instance").GetString()!;
    }

    /// <summary>Its own <c>/identity/flags</c>: the flag snapshot it has in force and whether its stream is open.</summary>
    public async Task<AgentFlags> FlagsAsync()
    {
        using var response = await _client.GetAsync(new Uri(Address, AgentPaths.Flags)).WaitAsync(Deadline.Request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<AgentFlags>(Json.Options).WaitAsync(Deadline.Request))!;
    }

    /// <summary>Sends one work item straight to this process (not through a gateway) and returns its answer.</summary>
    public async Task<AgentAnswer> ProcessAsync(string id)
    {
        using var request = WorkItems.Post(id);
        request.RequestUri = new Uri(Address, request.RequestUri!);
        using var response = await _client.SendAsync(request).WaitAsync(Deadline.Request);
        var body = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode ? AgentAnswer.Parse(body) : throw new InvalidOperationException($"{Name} answered {(int)response.StatusCode}: {body}");
    }

    /// <summary>Its <c>agent_processed_items_total</c> (all series: the version label changes with a rollout), scraped from <c>/metrics</c>.</summary>
    public async Task<long> ProcessedAsync()
    {
        using var response = await _client.GetAsync(new Uri(Address, HealthPaths.Metrics)).WaitAsync(Deadline.Request);
        response.EnsureSuccessStatusCode();
        return (long)PrometheusText.Sum(await response.Content.ReadAsStringAsync(), ProcessedItems);
    }

    /// <summary>SIGKILL: exactly a crash; open connections are reset by the kernel.</summary>
    public Task KillAsync() => _process.KillAsync();

    public void Dispose()
    {
        _client.Dispose();
        _process.Dispose();
    }
}

/// <summary>What an agent says at <c>/identity/flags</c>.</summary>
public sealed record AgentFlags(string Source, long Version, int? Revision, string? VersionLabel, bool Connected, long Connections);
