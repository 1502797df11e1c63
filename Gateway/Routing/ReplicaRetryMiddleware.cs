using System.Collections.Frozen;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Gateway.Routing;

/// <summary>
/// One retry on another replica of the same track, only when the first attempt cannot have run on the agent: the
/// connection to the replica was never established (refused, unreachable: a dead replica), whatever the method; or the
/// request is idempotent and has no body (GET, HEAD, OPTIONS, TRACE, and a body-less PUT or DELETE) and failed before
/// any response. A POST that reached a replica is never repeated.
/// </summary>
/// <remarks>
/// Sits between the track choice and load balancing, so the retry stays on the track the gateway chose (and counted)
/// and goes to a replica the load balancer did not pick. The routing step reports the request's final outcome to
/// passive health; the failed attempt is reported here, so the dead replica is ejected after a few failures and later
/// requests no longer need a retry. With one replica (the common local case) it is a plain call: no extra await and no
/// allocation per request.
/// </remarks>
internal sealed partial class ReplicaRetryMiddleware(
    RequestDelegate next,
    IEnumerable<IPassiveHealthCheckPolicy> passiveHealthPolicies,
    ILogger<ReplicaRetryMiddleware> logger)
{
    private readonly FrozenDictionary<string, IPassiveHealthCheckPolicy> _passiveHealth =
        passiveHealthPolicies.ToFrozenDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

    public Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        return proxy.AvailableDestinations.Count < 2 ? next(context) : InvokeWithRetryAsync(context, proxy);
    }

    private async Task InvokeWithRetryAsync(HttpContext context, IReverseProxyFeature proxy)
    {
        var candidates = proxy.AvailableDestinations;
        // The client's cookie (set by the routing step) must survive YARP's reset of the failed attempt's response.
        var setCookie = context.Response.Headers.SetCookie;
        await next(context);

        if (proxy.ProxiedDestination is not { } failed || !IsRetryable(context))
        {
            return;
        }

        var others = new List<DestinationState>(candidates.Count - 1);
        foreach (var destination in candidates)
        {
            if (!ReferenceEquals(destination, failed))
            {
                others.Add(destination);
            }
        }

        if (others.Count == 0)
        {
            return;
        }

        Log.Retrying(logger, context.Request.Method, failed.DestinationId, context.GetForwarderErrorFeature()?.Exception?.Message);
        // The failed attempt counts against its replica (the routing step reports only the final outcome).
        if (proxy.Cluster.Config.HealthCheck?.Passive is { Enabled: true } passive && context.GetRouteModel().Cluster is { } cluster)
        {
            _passiveHealth[passive.Policy ?? HealthCheckConstants.PassivePolicy.TransportFailureRate].RequestProxied(context, cluster, failed);
        }

        context.Features.Set<IForwarderErrorFeature>(null);
        context.Response.Clear();
        context.Response.StatusCode = StatusCodes.Status200OK;
        if (setCookie.Count > 0)
        {
            context.Response.Headers.SetCookie = setCookie;
        }

        proxy.AvailableDestinations = others;
        await next(context);
    }

    /// <summary>Whether the failed attempt provably did not run on the agent, or may safely run twice.</summary>
    internal static bool IsRetryable(HttpContext context)
    {
        if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested
            || context.GetForwarderErrorFeature() is not { Error: ForwarderError.Request } error)
        {
            return false;
        }

        // No connection, so no byte of the request reached the replica.
        if (error.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError })
        {
            return true;
        }

        var method = context.Request.Method;
        var safeToRepeat = HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)
            || HttpMethods.IsTrace(method) || HttpMethods.IsPut(method) || HttpMethods.IsDelete(method);
        // A body was streamed to the failed replica and cannot be read again.
        return safeToRepeat && context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2050, Level = LogLevel.Warning, Message = "{Method} failed on replica {Destination} before reaching it ({Reason}); retrying once on another replica of the same track.")]
        public static partial void Retrying(ILogger logger, string method, string destination, string? reason);
    }
}
