using Yarp.ReverseProxy.Forwarder;

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
