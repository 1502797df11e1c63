using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Routing;

/// <summary>
/// Stamps <c>X-Agent-Track</c> and <c>X-Agent-Version</c> on every proxied response after YARP copied the agent's
/// headers, replacing any the agent sent: the gateway's routing table is the one truth about which version served.
/// </summary>
internal sealed class TrackHeadersTransform(IRoutingState routing) : ResponseTransform, ITransformProvider
{
    public override ValueTask ApplyAsync(ResponseTransformContext context)
    {
        if (context.HttpContext.GetReverseProxyFeature().ProxiedDestination is { } destination)
        {
            var track = TrackDestinations.TrackOf(destination);
            TrackRoutingMiddleware.StampHeaders(context.HttpContext.Response.Headers, track, routing.Current.VersionOf(track));
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
