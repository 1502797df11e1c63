using AgentAspire.Contracts;
using Microsoft.Extensions.Options;
using ServiceDefaults.Streaming;

namespace Gateway;

/// <summary>The gateway's configuration, bound from the <c>Gateway</c> section and validated at start.</summary>
public sealed class GatewayOptions
{
    public const string SectionName = ConfigKeys.Gateway.Section;

    /// <summary>The agent whose traffic this gateway splits (its entry in the routing table).</summary>
    public string Agent { get; set; } = ResourceNames.DefaultAgent;

    /// <summary>RolloutApi's base address; a service-discovery name such as <c>http://rollout-api</c>.</summary>
    public string RolloutApi { get; set; } = $"http://{ResourceNames.RolloutApi}";

    /// <summary>The viewer API key sent as <c>X-Api-Key</c> to RolloutApi's read-only routing stream; optional.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Where the stable track runs and its version label until a routing table says otherwise.</summary>
    public TrackOptions Stable { get; set; } = new() { Destination = $"http://{ResourceNames.AgentStable}" };

    /// <summary>Where the canary track runs and its version label until a routing table says otherwise.</summary>
    public TrackOptions Canary { get; set; } = new() { Destination = $"http://{ResourceNames.AgentCanary}" };

    /// <summary>The canary weight (basis points) used until the first routing table arrives; 0 sends all to stable.</summary>
    public int InitialWeight { get; set; } = Weights.Min;

    /// <summary>The first delay before reconnecting to the routing stream; doubles per failed attempt.</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest delay between reconnection attempts.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Reconnect when the routing stream is silent this long (RolloutApi sends a keep-alive comment every 15 s by
    /// default); zero or negative turns the check off.
    /// </summary>
    public TimeSpan StreamIdleTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>The routing stream's reconnect and idle settings, in the shape the shared SSE subscription takes.</summary>
    internal SseSubscriptionOptions StreamSubscription => new()
    {
        ReconnectDelay = ReconnectMinDelay,
        MaxReconnectDelay = ReconnectMaxDelay,
        IdleTimeout = StreamIdleTimeout,
    };

    /// <summary>How long a replica that passive health took out stays out before it is tried again.</summary>
    public TimeSpan ReactivationPeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// This gateway's id in RolloutApi's list of gateways (the routing revision each applies). Default: the host name
    /// and process id, unique per replica (a Kubernetes pod's host name is its pod name).
    /// </summary>
    public string Id { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>
    /// How long the gateway may go without hearing from RolloutApi (a table or a keep-alive) before it falls back to
    /// <see cref="LeaseFallback"/>. Keep it above RolloutApi's stream heartbeat (15 s by default).
    /// </summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>What the gateway routes by once its lease ran out, until RolloutApi is heard from again.</summary>
    public LeaseFallback LeaseFallback { get; set; } = LeaseFallback.KeepLastWeights;

    /// <summary>
    /// Run each request on the socket thread that read it instead of handing it to the thread pool at every step:
    /// Kestrel's <c>UnsafePreferInlineScheduling</c> plus the runtime's inline socket completions
    /// (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>, set for the gateway process at start unless the variable
    /// is already set). Off by default: in paired runs on 2 shared cores it cost 0.94x the CPU per request (0.78x with
    /// <c>DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT=1</c>) at the same req/s, but its open-loop p99 at 4,000 req/s was
    /// tens of ms where the default held a few: a socket thread that the scheduler takes off a contended core stalls
    /// every connection it owns (bench/README.md). For a gateway on cores of its own (a pod with a CPU request).
    /// Nothing on the gateway's request path blocks; turn it off again if you add code that does.
    /// </summary>
    public bool InlineScheduling { get; set; }

    /// <summary>
    /// How long a starting gateway reports not ready (503 on <c>/health</c>) while it has no routing table from RolloutApi,
    /// so that a restarted replica takes traffic only once it routes by the table in force. Past it, with RolloutApi still
    /// unreachable, it turns ready on the configured initial weight (Degraded), rather than never serving.
    /// </summary>
    public TimeSpan FirstTableWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>What the gateway's OpenTelemetry records per request (each item is paid on every request).</summary>
    public TelemetryOptions Telemetry { get; set; } = new();

    /// <summary>Who may force a track with <c>X-Agent-Track</c>.</summary>
    public ForcedTrackOptions ForcedTrack { get; set; } = new();
}

/// <summary>
/// Who may force a track (section <c>Gateway:ForcedTrack</c>). Locally anyone may; the Kubernetes publisher turns
/// anonymous forcing off, so that only callers with <see cref="Token"/> (header <c>X-Agent-Track-Token</c>) or a listed
/// <c>X-Client-Id</c> reach a track of their choosing. A request that may not force is routed as if it had not asked.
/// </summary>
public sealed class ForcedTrackOptions
{
    /// <summary>Whether any caller may force a track (local development: yes).</summary>
    public bool AllowAnonymous { get; set; } = true;

    /// <summary>A secret that lets a caller force a track (header <c>X-Agent-Track-Token</c>); keep it in a secret store.</summary>
    public string? Token { get; set; }

    /// <summary>Client ids (<c>X-Client-Id</c>) that may force a track, e.g. a smoke-test client.</summary>
    public List<string> ClientIds { get; set; } = [];
}

/// <summary>The safe mode a gateway falls back to when it lost contact with RolloutApi for longer than its lease.</summary>
public enum LeaseFallback
{
    /// <summary>
    /// Keep routing by the last table (fail static; the default). A control-plane outage (a RolloutApi upgrade, its node
    /// dying) must not by itself move users between versions, and stable may not have the capacity for all traffic while
    /// a rollout is under way.
    /// </summary>
    KeepLastWeights,

    /// <summary>
    /// Send everything to stable: for operators who would rather lose the canary than have it serve after an abort the
    /// gateway never heard of. The gateway returns to the table as soon as RolloutApi is heard from again.
    /// </summary>
    StableOnly,
}

/// <summary>The gateway's per-request telemetry settings (section <c>Gateway:Telemetry</c>).</summary>
public sealed class TelemetryOptions
{
    /// <summary>
    /// The share of root requests (no sampled parent) whose traces are recorded, 0..1; a caller's sampling decision
    /// is always followed. Unsampled requests still carry their trace context to the agent. <c>OTEL_TRACES_SAMPLER</c>,
    /// when set, replaces this.
    /// </summary>
    public double TraceSampleRatio { get; set; } = 0.01;

    /// <summary>
    /// Record a client span (HttpClient's activity) for every forwarded request inside the gateway's server span. Off:
    /// the agent's span is the child of the gateway's server span, and the gateway saves ~1 KB and an activity per request.
    /// </summary>
    public bool ClientSpans { get; set; }

    /// <summary>
    /// Keep ASP.NET Core's and HttpClient's per-request metrics (<c>http.server.request.duration</c>,
    /// <c>http.client.request.duration</c>, ...) besides the gateway's own per-track ones.
    /// </summary>
    public bool FrameworkRequestMetrics { get; set; }
}

/// <summary>One track's destination (a URL, usually a service-discovery name) and version label.</summary>
public sealed class TrackOptions
{
    public string Destination { get; set; } = "";

    public string Version { get; set; } = "0.0.0";
}

/// <summary>Rejects a configuration the gateway cannot route with, at start rather than on the first request.</summary>
internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Agent))
        {
            failures.Add("Gateway:Agent is required.");
        }

        RequireHttpUrl(options.RolloutApi, "Gateway:RolloutApi", failures);
        RequireHttpUrl(options.Stable.Destination, "Gateway:Stable:Destination", failures);
        RequireHttpUrl(options.Canary.Destination, "Gateway:Canary:Destination", failures);
        if (string.IsNullOrWhiteSpace(options.Stable.Version) || string.IsNullOrWhiteSpace(options.Canary.Version))
        {
            failures.Add("Gateway:Stable:Version and Gateway:Canary:Version must not be empty.");
        }

        if (!Weights.IsValid(options.InitialWeight))
        {
            failures.Add($"Gateway:InitialWeight must be between {Weights.Min} and {Weights.Max} basis points.");
        }

        if (options.ReconnectMinDelay <= TimeSpan.Zero || options.ReconnectMaxDelay < options.ReconnectMinDelay)
        {
            failures.Add("Gateway:ReconnectMinDelay must be positive and not above Gateway:ReconnectMaxDelay.");
        }

        if (options.Telemetry.TraceSampleRatio is < 0 or > 1 || double.IsNaN(options.Telemetry.TraceSampleRatio))
        {
            failures.Add("Gateway:Telemetry:TraceSampleRatio must be between 0 and 1.");
        }

        if (options.ReactivationPeriod <= TimeSpan.Zero)
        {
            failures.Add("Gateway:ReactivationPeriod must be positive.");
        }

        if (string.IsNullOrEmpty(options.Id) || options.Id.Length > 128
            || !options.Id.All(static c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-'))
        {
            failures.Add($"Gateway:Id must be 1-128 characters of letters, digits, '.', '_', ':' or '-'; was '{options.Id}'.");
        }

        if (options.ForcedTrack.Token is { Length: > 0 and (< 16 or > 200) })
        {
            failures.Add("Gateway:ForcedTrack:Token must be 16 to 200 characters (it is a secret; make it long and random).");
        }

        if (options.Lease <= TimeSpan.Zero)
        {
            failures.Add("Gateway:Lease must be positive.");
        }

        if (options.FirstTableWait < TimeSpan.Zero)
        {
            failures.Add("Gateway:FirstTableWait must not be negative.");
        }

        if (!Enum.IsDefined(options.LeaseFallback))
        {
            failures.Add($"Gateway:LeaseFallback must be {LeaseFallback.KeepLastWeights} or {LeaseFallback.StableOnly}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    private static void RequireHttpUrl(string? value, string key, List<string> failures)
    {
        if (!IsHttpUrl(value))
        {
            failures.Add($"{key} must be an absolute http(s) URL, e.g. a service-discovery name such as http://agent-stable; was '{value}'.");
        }
    }
}
