using System.Text.Json.Serialization;

namespace AgentAspire.Contracts;

/// <summary>
/// The routing table RolloutApi publishes and the gateway applies: per agent, where each track runs and the
/// canary's share. <see cref="Revision"/> only grows; a consumer ignores a table older than the one it holds.
/// </summary>
/// <remarks>
/// Served as a snapshot at <c>GET /api/routing</c> and pushed as server-sent events (event <c>routing</c>, id = revision,
/// data = this record as JSON) at <c>GET /api/routing/stream</c>; the stream sends the current table first.
/// </remarks>
public sealed record RoutingTable(
    [property: JsonPropertyName("revision")] long Revision,
    [property: JsonPropertyName("agents")] IReadOnlyList<AgentRoute> Agents)
{
    public static readonly RoutingTable Empty = new(0, []);

    public AgentRoute? Find(string agent)
    {
        foreach (var route in Agents)
        {
            if (string.Equals(route.Agent, agent, StringComparison.Ordinal))
            {
                return route;
            }
        }

        return null;
    }
}

/// <summary>
/// One agent's routing: the two tracks and the canary weight in basis points (0–10,000). <see cref="ForcedCanary"/> is
/// false after an abort (until an operator allows it, or a retry or new rollout): the gateway then refuses requests
/// that force the canary with <c>X-Agent-Track: canary</c>.
/// </summary>
public sealed record AgentRoute(
    [property: JsonPropertyName("agent")] string Agent,
    [property: JsonPropertyName("weight")] int Weight,
    [property: JsonPropertyName("stable")] TrackRoute Stable,
    [property: JsonPropertyName("canary")] TrackRoute Canary,
    [property: JsonPropertyName("revision")] long Revision,
    [property: JsonPropertyName("forcedCanary")] bool ForcedCanary = true);

/// <summary>Where a track runs (a service-discovery address such as <c>http://agent-stable</c>) and its version label.</summary>
public sealed record TrackRoute(
    [property: JsonPropertyName("destination")] string Destination,
    [property: JsonPropertyName("version")] string Version);

/// <summary>Weights are basis points: 10,000 is 100%, so 0.01% steps are possible.</summary>
public static class Weights
{
    public const int Min = 0;
    public const int Max = 10_000;

    public static bool IsValid(int weight) => weight is >= Min and <= Max;
}

/// <summary>The paths RolloutApi serves to the gateway and agents (read-only).</summary>
public static class RolloutApiPaths
{
    public const string Routing = "/api/routing";
    public const string RoutingStream = "/api/routing/stream";
    public const string RoutingEventName = "routing";

    /// <summary>Every gateway RolloutApi knows: the routing revision each applies and its lag.</summary>
    public const string RoutingGateways = "/api/routing/gateways";

    /// <summary>The query parameter a gateway names itself with on the routing stream (<c>?gateway={id}</c>).</summary>
    public const string GatewayParameter = "gateway";

    /// <summary>Where a gateway reports the revision it applies (<c>PUT</c>, body <see cref="GatewayReport"/>).</summary>
    public static string GatewayReport(string gateway) => $"{RoutingGateways}/{Uri.EscapeDataString(gateway)}";

    /// <summary>The routing stream for one gateway: the same events, and RolloutApi knows who is listening.</summary>
    public static string RoutingStreamFor(string gateway) => $"{RoutingStream}?{GatewayParameter}={Uri.EscapeDataString(gateway)}";

    /// <summary>The agent's current rollout; operations are sub-paths (<c>promote</c>, <c>abort</c>, ...).</summary>
    public static string Rollout(string agent) => $"/api/agents/{Uri.EscapeDataString(agent)}/rollout";

    /// <summary>Re-applies an earlier revision (the previous one when the body names none).</summary>
    public static string Undo(string agent) => $"/api/agents/{Uri.EscapeDataString(agent)}/undo";
}

/// <summary>
/// What a gateway reports after it applied a routing table (<c>PUT /api/routing/gateways/{id}</c>): the revision in force,
/// the agent it routes, and whether its lease fell back to a safe mode (its weights are then not the table's).
/// </summary>
public sealed record GatewayReport(
    [property: JsonPropertyName("revision")] long Revision,
    [property: JsonPropertyName("agent")] string? Agent = null,
    [property: JsonPropertyName("fallback")] string? Fallback = null);
