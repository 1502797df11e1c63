using System.Diagnostics;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Stats;

/// <summary>
/// Hands the agent the gateway's trace context (<c>traceparent</c>, <c>tracestate</c>, <c>baggage</c>) on every
/// forwarded request, sampled or not, so the agent's parent-based sampler follows the gateway's decision and a sampled
/// trace runs caller → gateway → agent. The caller's own headers, which YARP copied, are replaced: the agent's parent
/// is the gateway's span, as with YARP's default propagator.
/// </summary>
internal sealed class TraceContextTransform : RequestTransform, ITransformProvider
{
    private static readonly DistributedContextPropagator.PropagatorSetterCallback SetHeader =
        static (carrier, name, value) => ((HttpRequestMessage)carrier!).Headers.TryAddWithoutValidation(name, value);

    // The propagator's header names as an array, so removing them does not box an enumerator per request; rebuilt if
    // someone replaces DistributedContextPropagator.Current.
    private Fields? _fields;

    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        var propagator = DistributedContextPropagator.Current;
        var cached = Volatile.Read(ref _fields);
        if (cached is null || !ReferenceEquals(cached.Propagator, propagator))
        {
            cached = new Fields(propagator, [.. propagator.Fields]);
            Volatile.Write(ref _fields, cached);
        }

        var headers = context.ProxyRequest.Headers;
        foreach (var field in cached.Names)
        {
            headers.Remove(field);
        }

        if (Activity.Current is { } activity)
        {
            propagator.Inject(activity, context.ProxyRequest, SetHeader);
        }

        return default;
    }

    private sealed record Fields(DistributedContextPropagator Propagator, string[] Names);

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context) => context.RequestTransforms.Add(this);
}
