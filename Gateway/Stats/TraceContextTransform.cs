using System.Diagnostics;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Stats;

/// <summary>
/// Hands the agent the gateway's trace context (<c>traceparent</c>, <c>tracestate</c>, <c>baggage</c>) on every
/// forwarded request, sampled or not, so the agent's parent-based sampler follows the gateway's decision and a sampled
/// trace runs caller → gateway → agent. The caller's own headers, which YARP copied, are replaced: the agent's parent
/// is the gateway's span, as with YARP's default propagator. A request the gateway does not record has no activity
/// (<see cref="ServerSpans"/>): it gets a <c>traceparent</c> with the caller's trace id (a fresh one for a root) and
/// flags, and a span id of its own, written directly; the caller's <c>tracestate</c> and <c>baggage</c> pass as they came.
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
        if (Activity.Current is not { } activity)
        {
            WriteUnrecordedContext(context);
            return default;
        }

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

        propagator.Inject(activity, context.ProxyRequest, SetHeader);
        return default;
    }

    // "00-{trace id}-{span id}-{flags}": the W3C version 00 layout.
    private const int TraceParentLength = 55;

    private static void WriteUnrecordedContext(RequestTransformContext context)
    {
        var headers = context.ProxyRequest.Headers;
        var traceId = ActivityTraceId.CreateRandom();
        var flags = ActivityTraceFlags.None;
        if (ServerSpans.TryGetRemoteParent(context.HttpContext.Request, out var parent))
        {
            traceId = parent.TraceId;
            flags = parent.TraceFlags;
        }
        else
        {
            // A malformed caller context is not continued (as ASP.NET Core would not): neither is its state.
            headers.Remove(TraceStateHeader);
        }

        headers.Remove(TraceParentHeader);
        headers.TryAddWithoutValidation(TraceParentHeader, string.Create(TraceParentLength, (traceId, ActivitySpanId.CreateRandom(), flags), static (span, ids) =>
        {
            Span<byte> bytes = stackalloc byte[16];
            "00-".AsSpan().CopyTo(span);
            ids.Item1.CopyTo(bytes);
            Convert.TryToHexStringLower(bytes, span[3..35], out _);
            span[35] = '-';
            ids.Item2.CopyTo(bytes[..8]);
            Convert.TryToHexStringLower(bytes[..8], span[36..52], out _);
            span[52] = '-';
            span[53] = '0';
            span[54] = (ids.Item3 & ActivityTraceFlags.Recorded) != 0 ? '1' : '0';
        }));
    }

    private const string TraceParentHeader = "traceparent";
    private const string TraceStateHeader = "tracestate";

    private sealed record Fields(DistributedContextPropagator Propagator, string[] Names);

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context) => context.RequestTransforms.Add(this);
}
