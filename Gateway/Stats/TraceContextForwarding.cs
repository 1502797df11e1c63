using System.Diagnostics;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Stats;

/// <summary>
/// YARP's forwarding client without HttpClient's DiagnosticsHandler. That handler starts a client activity for every
/// forwarded request whenever a server activity is current — sampled or not, listened to or not — and tags it, formats
/// its id, swaps the async-local context twice and has OpenTelemetry inject the headers a second time: about 1 KB and
/// a fifth of the gateway's allocations per request (bench/README.md). <see cref="TraceContextTransform"/> propagates
/// the context instead, from the gateway's own server span. <c>Gateway:Telemetry:ClientSpans</c> brings the handler back.
/// </summary>
internal sealed class TraceContextForwarderHttpClientFactory(ILogger<ForwarderHttpClientFactory> logger) : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);

        // Without a propagator SocketsHttpHandler leaves DiagnosticsHandler out of its chain.
        handler.ActivityHeadersPropagator = null;
    }
}

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
