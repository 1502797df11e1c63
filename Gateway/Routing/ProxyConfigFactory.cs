using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace Gateway.Routing;

/// <summary>
/// The YARP configuration: one catch-all route to one cluster holding both tracks' destinations, each tagged with
/// its track in metadata. Service discovery expands a destination into one per replica (named
/// <c>stable[http://127.0.0.1:5001]</c> and so on) and keeps the metadata, so every replica still says its track.
/// </summary>
public static class ProxyConfigFactory
{
    public const string RouteId = "agent";
    public const string ClusterId = "agent";
    public const string TrackMetadataKey = "agentaspire.track";

    /// <summary>After every endpoint the gateway maps itself (<c>/health</c>, <c>/gateway/*</c>, ...).</summary>
    public const int RouteOrder = 1_000;

    public static IReadOnlyList<RouteConfig> Routes() =>
    [
        new RouteConfig
        {
            RouteId = RouteId,
            ClusterId = ClusterId,
            Order = RouteOrder,
            Match = new RouteMatch { Path = "/{**catch-all}" },
        },
    ];

    public static IReadOnlyList<ClusterConfig> Clusters(string stableDestination, string canaryDestination, GatewayOptions options) =>
    [
        new ClusterConfig
        {
            ClusterId = ClusterId,
            // Within a track, spread over its replicas by outstanding requests (only consulted with several replicas).
            LoadBalancingPolicy = LoadBalancingPolicies.PowerOfTwoChoices,
            HealthCheck = new HealthCheckConfig
            {
                // If every replica is out, try them all rather than refuse every request.
                AvailableDestinationsPolicy = HealthCheckConstants.AvailableDestinations.HealthyOrPanic,
                Passive = new PassiveHealthCheckConfig
                {
                    Enabled = true,
                    Policy = HealthCheckConstants.PassivePolicy.TransportFailureRate,
                    ReactivationPeriod = options.ReactivationPeriod,
                },
            },
            HttpClient = new HttpClientConfig
            {
                // No cap: a cap queues requests inside the proxy, which shows up as p99 latency under load.
                MaxConnectionsPerServer = null,
                EnableMultipleHttp2Connections = true,
            },
            Destinations = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase)
            {
                [TrackNames.Of(Track.Stable)] = Destination(stableDestination, Track.Stable),
                [TrackNames.Of(Track.Canary)] = Destination(canaryDestination, Track.Canary),
            },
        },
    ];

    private static DestinationConfig Destination(string address, Track track) => new()
    {
        Address = address,
        Metadata = new Dictionary<string, string> { [TrackMetadataKey] = TrackNames.Of(track) },
    };
}

/// <summary>
/// Keeps YARP's destinations in line with the routing table. Rebuilding the proxy configuration happens only when a
/// track's destination address changes (rare), never for a weight change, which the routing snapshot carries alone.
/// </summary>
public interface IProxyDestinations
{
    void Apply(RoutingSnapshot snapshot);
}

/// <summary>The default: updates YARP's in-memory configuration when a track moves to another address.</summary>
internal sealed partial class ProxyDestinations(
    InMemoryConfigProvider provider,
    IOptions<GatewayOptions> options,
    ILogger<ProxyDestinations> logger) : IProxyDestinations
{
    private readonly Lock _gate = new();
    private (string Stable, string Canary) _applied = (options.Value.Stable.Destination, options.Value.Canary.Destination);

    public void Apply(RoutingSnapshot snapshot)
    {
        var wanted = (snapshot.Stable.Destination, snapshot.Canary.Destination);
        lock (_gate)
        {
            if (string.Equals(wanted.Item1, _applied.Stable, StringComparison.OrdinalIgnoreCase)
                && string.Equals(wanted.Item2, _applied.Canary, StringComparison.OrdinalIgnoreCase))
            {
                return;
            }

            provider.Update(ProxyConfigFactory.Routes(), ProxyConfigFactory.Clusters(wanted.Item1, wanted.Item2, options.Value));
            _applied = wanted;
            Log.DestinationsChanged(logger, snapshot.Revision, wanted.Item1, wanted.Item2);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Routing revision {Revision} moved the tracks: stable → {Stable}, canary → {Canary}.")]
        public static partial void DestinationsChanged(ILogger logger, long revision, string stable, string canary);
    }
}
