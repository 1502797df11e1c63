using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Stats;

/// <summary>
/// What the gateway changes in ServiceDefaults' OpenTelemetry, because every request pays for it (bench/README.md
/// measures each item): traces sampled at a ratio instead of all, no client span per forwarded request (the context
/// still goes to the agent), and the framework's per-request metrics dropped where the gateway's own per-track
/// instruments already say the same.
/// </summary>
public static class GatewayTelemetry
{
    /// <summary>The standard OpenTelemetry sampler variable; when set, it wins over <see cref="TelemetryOptions.TraceSampleRatio"/>.</summary>
    public const string SamplerVariable = "OTEL_TRACES_SAMPLER";

    /// <summary>
    /// Instruments recorded on every request that duplicate <c>gateway.requests</c> / <c>gateway.request.duration</c>
    /// (per track) or say nothing a proxy operator reads: ASP.NET Core's server duration and active requests, the
    /// routing match counter, and HttpClient's per-request instruments for the forwarded call. Connection-level
    /// instruments (Kestrel's, HttpClient's open connections) cost nothing per request and stay.
    /// </summary>
    public static readonly string[] PerRequestFrameworkInstruments =
    [
        "http.server.request.duration",
        "http.server.active_requests",
        "aspnetcore.routing.match_attempts",
        "http.client.request.duration",
        "http.client.active_requests",
        "http.client.request.time_in_queue",
    ];

    /// <summary>Call before <c>AddServiceDefaults</c>: it tells ServiceDefaults whether the gateway starts its own server spans.</summary>
    public static IHostApplicationBuilder AddGatewayTelemetry(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(GatewayOptions.SectionName).Get<GatewayOptions>()?.Telemetry ?? new TelemetryOptions();

        var samplerFromEnvironment = !string.IsNullOrWhiteSpace(builder.Configuration[SamplerVariable]);
        if (!samplerFromEnvironment)
        {
            // Parent-based: a caller's sampled flag is honoured both ways, so a trace the client started stays whole.
            // A root request is kept at the ratio. Either way the context (with its sampled flag) goes on to the
            // agent, whose own parent-based default follows the gateway's decision.
            builder.Services.ConfigureOpenTelemetryTracerProvider(tracing =>
                tracing.SetSampler(new GatewaySampler(options.TraceSampleRatio)));
        }

        if (!options.ClientSpans && !samplerFromEnvironment)
        {
            // The gateway starts its own server span, and only for a request it samples (ServerSpans); ASP.NET Core's
            // instrumentation would make an activity for every request. With client spans, or a sampler chosen by
            // OTEL_TRACES_SAMPLER (which must see every request), ASP.NET Core's server spans stay as in every service.
            builder.Properties[Microsoft.Extensions.Hosting.Extensions.OwnServerSpansProperty] = true;
            builder.Services.AddSingleton<ServerSpans>();
            builder.Services.AddSingleton<IStartupFilter, ServerSpanStartupFilter>();
            builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddSource(ServerSpans.SourceName));
        }

        if (!options.ClientSpans)
        {
            // Registered before AddReverseProxy, whose TryAdd then keeps this factory.
            builder.Services.AddSingleton<IForwarderHttpClientFactory, TraceContextForwarderHttpClientFactory>();
            builder.Services.AddSingleton<ITransformProvider, TraceContextTransform>();
        }

        if (!options.FrameworkRequestMetrics)
        {
            builder.Services.ConfigureOpenTelemetryMeterProvider(metrics =>
            {
                // A dropped instrument is never enabled, so the framework skips recording it at all.
                foreach (var instrument in PerRequestFrameworkInstruments)
                {
                    metrics.AddView(instrument, MetricStreamConfiguration.Drop);
                }
            });
        }

        return builder;
    }
}
