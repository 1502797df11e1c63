using Gateway.Identity;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Routing;

/// <summary>
/// After YARP copied the agent's headers: adds the gateway's own <c>X-Gateway-Track</c> / <c>X-Gateway-Version</c>
/// (the track it chose) and hands the agent-written identity to the <see cref="ServedByCheck"/>. The agent's
/// <c>X-Agent-*</c> headers pass through untouched: only the process that answered says who it is.
/// </summary>
internal sealed class TrackHeadersTransform(IRoutingState routing, ServedByCheck servedBy) : ResponseTransform, ITransformProvider
{
    public override ValueTask ApplyAsync(ResponseTransformContext context)
    {
        if (context.HttpContext.GetReverseProxyFeature().ProxiedDestination is { } destination)
        {
            var track = TrackDestinations.TrackOf(destination);
            var snapshot = routing.Current;
            var headers = context.HttpContext.Response.Headers;
            TrackRoutingMiddleware.StampHeaders(headers, track, snapshot.VersionOf(track));
            // No response from the destination (a transport error) is not a mismatch: nothing answered.
            if (context.ProxyResponse is not null)
            {
                servedBy.Observe(snapshot.Agent, track, headers);
            }
        }

        return default;
    }

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context) => context.ResponseTransforms.Add(this);
}
