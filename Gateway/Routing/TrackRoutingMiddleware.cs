using System.Collections.Frozen;
using System.Diagnostics;
using AgentAspire.Contracts;
using Gateway.Stats;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Gateway.Routing;

/// <summary>
/// The gateway's step in YARP's proxy pipeline, before load balancing: picks the request's track from the routing
/// snapshot, narrows the available destinations to that track's replicas, stamps the chosen track and its version on
/// the response (as X-Gateway-*; the agent's own X-Agent-* pass through) and records the outcome. YARP then balances over the track's replicas, forwards and applies passive
/// health. Nothing here takes a lock or rebuilds configuration.
/// <para>
/// It is also the pipeline's passive-health step (in place of YARP's <c>UsePassiveHealthChecks</c>, which does exactly
/// this after awaiting the forwarder): one awaiting middleware around the forwarder instead of two saves an async
/// state machine per request (bench/README.md).
/// </para>
/// </summary>
internal sealed class TrackRoutingMiddleware(
    RequestDelegate next,
    IRoutingState routing,
    ITrackSelector selector,
    IClientKeyIssuer keys,
    TrackDestinations destinations,
    ITrafficStats stats,
    GatewayMetrics metrics,
    ForcedTrackPolicy forcedTrack,
    IEnumerable<IPassiveHealthCheckPolicy> passiveHealthPolicies,
    TimeProvider timeProvider)
{
    private readonly FrozenDictionary<string, IPassiveHealthCheckPolicy> _passiveHealth =
        passiveHealthPolicies.ToFrozenDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

    public async Task InvokeAsync(HttpContext context)
    {
        var started = timeProvider.GetTimestamp();
        var snapshot = routing.Current;
        var request = context.Request;

        Track? forced = TrackNames.TryParse(request.Headers[AgentHeaders.Track].ToString(), out var asked) && forcedTrack.Allows(request)
            ? asked
            : null;
        if (forced == Track.Canary && !snapshot.ForcedCanary)
        {
            await RefuseForcedCanaryAsync(context, snapshot);
            return;
        }

        var clientKey = ClientKeyOf(request);
        var decision = selector.Select(snapshot, forced, clientKey);
        if (clientKey.Length == 0)
        {
            context.Response.Headers.Append(HeaderNames.SetCookie,
                keys.CreateSetCookie(decision.Track, snapshot.Weight, matchTrack: decision.Reason == TrackReason.Split));
        }

        var proxy = context.GetReverseProxyFeature();
        var split = destinations.For(proxy.AvailableDestinations);
        var track = decision.Track;
        var candidates = split.Of(track);
        if (candidates.Count == 0 && decision.Reason != TrackReason.Forced)
        {
            // No healthy replica on the chosen track: serve from the other one rather than fail the request. A forced
            // track does not fall back, so a smoke test of the canary never silently hits stable.
            var other = track == Track.Canary ? Track.Stable : Track.Canary;
            if (split.Of(other).Count > 0)
            {
                track = other;
                candidates = split.Of(other);
            }
        }

        proxy.AvailableDestinations = candidates;
        var version = snapshot.VersionOf(track);
        if (Activity.Current is { IsAllDataRequested: true } span)
        {
            // A recorded trace says which track and version the gateway sent the request to.
            span.SetTag(AgentTelemetryNames.TrackAttribute, TrackNames.Of(track));
            span.SetTag(AgentTelemetryNames.VersionAttribute, version);
        }

        try
        {
            await next(context);
            ReportToPassiveHealth(context, proxy);
        }
        finally
        {
            var response = context.Response;
            if (!response.HasStarted)
            {
                // An error answered by YARP itself (502/503/504): its response was reset, so stamp it again.
                StampHeaders(response.Headers, track, version);
            }

            var statusClass = StatusClasses.Classify(response.StatusCode, context.GetForwarderErrorFeature()?.Error);
            var elapsed = timeProvider.GetTimestamp() - started;
            stats.Record(track, statusClass, elapsed);
            metrics.Record(snapshot.Agent, track, version, statusClass, (double)elapsed / timeProvider.TimestampFrequency);
        }
    }

    /// <summary>What YARP's PassiveHealthCheckMiddleware does once the forwarder returned: the cluster's policy sees the outcome.</summary>
    private void ReportToPassiveHealth(HttpContext context, IReverseProxyFeature proxy)
    {
        var options = proxy.Cluster.Config.HealthCheck?.Passive;
        if (options is null || options.Enabled != true || proxy.ProxiedDestination is null)
        {
            return;
        }

        var policy = _passiveHealth[options.Policy ?? HealthCheckConstants.PassivePolicy.TransportFailureRate];
        policy.RequestProxied(context, context.GetRouteModel().Cluster!, proxy.ProxiedDestination);
    }

    /// <summary>The gateway's own headers: the track it chose. The agent's X-Agent-* identity is never written here.</summary>
    internal static void StampHeaders(IHeaderDictionary headers, Track track, string version)
    {
        headers[GatewayChoiceHeaders.Track] = TrackNames.Of(track);
        headers[GatewayChoiceHeaders.Version] = version;
    }

    /// <summary>After an abort (or in a stable-only fallback) the canary takes no forced traffic: a clear 403, not stable in disguise.</summary>
    private static Task RefuseForcedCanaryAsync(HttpContext context, RoutingSnapshot snapshot) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status403Forbidden,
            title: "The canary refuses forced traffic.",
            detail: snapshot.StableOnlyFallback
                ? "The gateway lost contact with RolloutApi and routes to stable only until it hears from it again."
                : $"The rollout of agent '{snapshot.Agent}' was aborted; an operator can allow forced canary traffic again " +
                  $"(PUT /api/agents/{snapshot.Agent}/forced-canary), or retry the rollout.").ExecuteAsync(context);

    /// <summary>The sticky key: the <c>X-Client-Id</c> header, else the <c>aa-client</c> cookie; empty when neither.</summary>
    private static ReadOnlySpan<char> ClientKeyOf(HttpRequest request)
    {
        var header = request.Headers[AgentHeaders.ClientId];
        if (header.Count > 0 && !string.IsNullOrEmpty(header[0]))
        {
            return header[0];
        }

        // Only parse cookies when there are any: most API clients send none.
        return request.Headers.Cookie.Count > 0 ? request.Cookies[AgentHeaders.ClientCookie] : default;
    }
}
