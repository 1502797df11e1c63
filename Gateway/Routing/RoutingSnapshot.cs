using AgentAspire.Contracts;

namespace Gateway.Routing;

/// <summary>Where the routing in force came from.</summary>
public enum RoutingSource
{
    /// <summary>No table has arrived yet: the gateway's configuration (<c>Gateway:InitialWeight</c>) applies.</summary>
    Configuration,

    /// <summary>A routing table received from RolloutApi.</summary>
    RolloutApi,
}

/// <summary>
/// The routing in force for the gateway's agent: immutable, replaced as a whole so that a request reads one
/// consistent weight and pair of versions without a lock.
/// </summary>
public sealed class RoutingSnapshot
{
    public RoutingSnapshot(
        string agent,
        long revision,
        int weight,
        TrackRoute stable,
        TrackRoute canary,
        RoutingSource source,
        DateTimeOffset appliedAt,
        bool stableOnlyFallback = false,
        bool forcedCanary = true)
    {
        Agent = agent;
        Revision = revision;
        Weight = Math.Clamp(weight, Weights.Min, Weights.Max);
        Stable = stable;
        Canary = canary;
        Source = source;
        AppliedAt = appliedAt;
        StableOnlyFallback = stableOnlyFallback;
        ForcedCanary = forcedCanary && !stableOnlyFallback;
    }

    public string Agent { get; }

    /// <summary>The routing table revision this snapshot came from; 0 before any table arrived.</summary>
    public long Revision { get; }

    /// <summary>The canary's share in basis points (0–10,000).</summary>
    public int Weight { get; }

    public TrackRoute Stable { get; }

    public TrackRoute Canary { get; }

    public RoutingSource Source { get; }

    public DateTimeOffset AppliedAt { get; }

    /// <summary>
    /// True when the gateway's lease ran out and <see cref="LeaseFallback.StableOnly"/> set the weight to 0: the table of
    /// <see cref="Revision"/> is applied again as soon as RolloutApi is heard from.
    /// </summary>
    public bool StableOnlyFallback { get; }

    /// <summary>
    /// Whether a request may force the canary: false after an abort (until an operator allows it) and during a
    /// stable-only fallback. Precomputed here so the per-request check is one field read.
    /// </summary>
    public bool ForcedCanary { get; }

    public TrackRoute RouteOf(Track track) => track == Track.Canary ? Canary : Stable;

    public string VersionOf(Track track) => track == Track.Canary ? Canary.Version : Stable.Version;
}
