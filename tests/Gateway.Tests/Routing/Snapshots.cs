using AgentAspire.Contracts;
using Gateway.Routing;

namespace Gateway.Tests.Routing;

/// <summary>Routing snapshots for unit tests.</summary>
internal static class Snapshots
{
    public static RoutingSnapshot WithWeight(int weight, long revision = 1) => new(
        "agent-worker",
        revision,
        weight,
        new TrackRoute("http://agent-stable", "1.0.0"),
        new TrackRoute("http://agent-canary", "1.1.0"),
        RoutingSource.RolloutApi,
        DateTimeOffset.UnixEpoch);
}
