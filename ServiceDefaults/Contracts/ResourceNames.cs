namespace ServiceDefaults.Contracts;

/// <summary>The names of the app model's resources: one place, shared by AppHost, services and tests.</summary>
public static class ResourceNames
{
    public const string RolloutApi = "rollout-api";
    public const string Gateway = "gateway";
    public const string AgentStable = "agent-stable";
    public const string AgentCanary = "agent-canary";

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

/// <summary>HTTP headers that cross service boundaries.</summary>
public static class AgentHeaders
{
    /// <summary>The version label of the agent that served a response.</summary>
    public const string Version = "X-Agent-Version";

    /// <summary>The track that served a response; on a request to the gateway it forces that track.</summary>
    public const string Track = "X-Agent-Track";

    /// <summary>A client's sticky key.</summary>
    public const string ClientId = "X-Client-Id";

    /// <summary>The cookie the gateway sets so that a browser keeps its track.</summary>
    public const string ClientCookie = "aa-client";

    /// <summary>The API key header RolloutApi accepts besides a bearer token.</summary>
    public const string ApiKey = "X-Api-Key";

    /// <summary>The secret that lets a caller force a track where anonymous forcing is off (<c>Gateway:ForcedTrack:Token</c>).</summary>
    public const string TrackToken = "X-Agent-Track-Token";
}
