using AgentAspire.Contracts;
using AgentAspire.TestSupport;

namespace Gateway.Tests.Support;

/// <summary>Routing tables for tests.</summary>
public static class Tables
{
    public const string Agent = "agent-worker";

    public static RoutingTable For(long revision, int weight, AgentStandIn stable, AgentStandIn canary, string stableVersion = "1.0.0", string canaryVersion = "1.1.0") =>
        new(revision, [new AgentRoute(Agent, weight, new TrackRoute(stable.Address.ToString(), stableVersion), new TrackRoute(canary.Address.ToString(), canaryVersion), revision)]);

    public static RoutingTable For(long revision, int weight, string stableVersion = "1.0.0", string canaryVersion = "1.1.0") =>
        new(revision, [new AgentRoute(Agent, weight, new TrackRoute("http://agent-stable", stableVersion), new TrackRoute("http://agent-canary", canaryVersion), revision)]);
}
