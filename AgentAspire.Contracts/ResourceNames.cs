namespace AgentAspire.Contracts;

/// <summary>The names of the app model's resources: one place, shared by AppHost, services and tests.</summary>
public static class ResourceNames
{
    public const string RolloutApi = "rollout-api";
    public const string Gateway = "gateway";
    public const string AgentStable = "agent-stable";
    public const string AgentCanary = "agent-canary";

    /// <summary>The upstream-API simulator the reference agent calls locally (not published to Kubernetes).</summary>
    public const string UpstreamApi = "upstream-api";

    /// <summary>The opt-in demo client that sends work items through the gateway (<c>AgentAspire:DemoTraffic</c>).</summary>
    public const string DemoTraffic = "demo-traffic";

    /// <summary>The opt-in local Prometheus (<c>AgentAspire:Prometheus</c>) that analysis queries.</summary>
    public const string Prometheus = "prometheus";

    /// <summary>The one agent the reference app ships; the model allows several.</summary>
    public const string DefaultAgent = "agent-worker";

    /// <summary>The resource name of an agent's track (<c>agent-stable</c>, <c>agent-canary</c>).</summary>
    public static string ForTrack(string track) => track switch
    {
        Tracks.Stable => AgentStable,
        Tracks.Canary => AgentCanary,
        _ => throw new ArgumentOutOfRangeException(nameof(track), track, "A track is 'stable' or 'canary'."),
    };
}

/// <summary>The two tracks a revision runs on.</summary>
public static class Tracks
{
    public const string Stable = "stable";
    public const string Canary = "canary";

    public static bool IsKnown(string? track) => track is Stable or Canary;
}

/// <summary>
/// HTTP headers that cross service boundaries. On a response, the <c>X-Agent-*</c> identity headers are written by the
/// agent process that answered (ServiceDefaults stamps them) and nobody else: the gateway passes them through.
/// </summary>
public static class AgentHeaders
{
    /// <summary>The agent that served a response (its name, e.g. <c>agent-worker</c>).</summary>
    public const string Agent = "X-Agent-Name";

    /// <summary>The version label of the agent that served a response.</summary>
    public const string Version = "X-Agent-Version";

    /// <summary>The track that served a response; on a request to the gateway it forces that track.</summary>
    public const string Track = "X-Agent-Track";

    /// <summary>RolloutApi's revision number the serving agent runs, when it knows it.</summary>
    public const string Revision = "X-Agent-Revision";

    /// <summary>The build the serving agent runs (a stored build's content hash, or its assembly's module id).</summary>
    public const string Build = "X-Agent-Build";

    /// <summary>The serving process (host/pid/start): two tracks answering with one instance share a process.</summary>
    public const string Instance = "X-Agent-Instance";

    /// <summary>A client's sticky key.</summary>
    public const string ClientId = "X-Client-Id";

    /// <summary>The cookie the gateway sets so that a browser keeps its track.</summary>
    public const string ClientCookie = "aa-client";

    /// <summary>The API key header RolloutApi accepts besides a bearer token.</summary>
    public const string ApiKey = "X-Api-Key";

    /// <summary>The secret that lets a caller force a track where anonymous forcing is off (<c>Gateway:ForcedTrack:Token</c>).</summary>
    public const string TrackToken = "X-Agent-Track-Token";
}

/// <summary>Paths every agent built on ServiceDefaults serves besides its own API.</summary>
public static class AgentPaths
{
    /// <summary><c>GET</c>: the agent process's own identity (agent, track, version, revision, build, instance).</summary>
    public const string Identity = "/identity";

    /// <summary>
    /// <c>GET</c>: the flags the agent process has in force, by its own word: where they came from, their version, and
    /// whether its stream to RolloutApi is open (status only, never the definitions).
    /// </summary>
    public const string Flags = "/identity/flags";
}

/// <summary>
/// What the gateway adds to a proxied response: the track it chose and that track's version label in its routing table.
/// Separate from the agent's own <see cref="AgentHeaders"/>, which the gateway never overwrites.
/// </summary>
public static class GatewayChoiceHeaders
{
    public const string Track = "X-Gateway-Track";

    public const string Version = "X-Gateway-Version";
}
