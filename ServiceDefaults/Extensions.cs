using AgentAspire.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using ServiceDefaults.Telemetry;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The one place for what every AgentAspire service shares: OpenTelemetry, health endpoints, service discovery,
/// resilience and Prometheus exposition.
/// </summary>
public static class Extensions
{
    public const string LiveTag = "live";

    /// <summary>
    /// Marks a readiness check whose "not yet" is a normal part of starting (say, waiting for the first flag snapshot):
    /// it reports Degraded, which the health service logs as a warning instead of an error, and <c>/health</c> still
    /// answers 503 while any such check is not Healthy. Other checks keep the usual meaning (Degraded = 200).
    /// </summary>
    public const string StartupTag = "startup";

    /// <summary>
    /// Set (to any value) in <see cref="IHostApplicationBuilder.Properties"/> before <see cref="AddServiceDefaults"/> by a
    /// service that starts its own server spans: ASP.NET Core's tracing instrumentation is then left out. While it
    /// listens, ASP.NET Core creates an activity for every request, sampled or not; the gateway decides first and
    /// starts a span only for the requests it samples (Gateway/README.md, "Telemetry cost per request").
    /// </summary>
    public const string OwnServerSpansProperty = "AgentAspire:OwnServerSpans";

    /// <summary>Meters every service exports besides the framework's own; services add theirs by name.</summary>
    /// <summary>The names under which the OTLP exporter asks IHttpClientFactory for its clients.</summary>
    private static readonly string[] OtlpExporterHttpClientNames = ["OtlpTraceExporter", "OtlpMetricExporter", "OtlpLogExporter"];

    private const string OtlpTimeoutKey = "OTEL_EXPORTER_OTLP_TIMEOUT";
    private const string DevelopmentOtlpTimeoutMilliseconds = "1000";
    private const int DefaultOtlpTimeoutMilliseconds = 10_000;

    private static readonly string[] FrameworkMeters =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "System.Net.Http",
    ];

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder, params string[] meterNames)
        where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry(meterNames);
        builder.AddDefaultHealthChecks();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });
        builder.Services.AddProblemDetails();
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder, params string[] meterNames)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics =>
            {
                metrics.AddLintCleanNames()
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddMeter(FrameworkMeters)
                    .AddMeter(meterNames)
                    .AddPrometheusExporter();
            })
            .WithTracing(tracing =>
            {
                tracing.AddSource(builder.Environment.ApplicationName)
                    .AddSource(meterNames)
                    .AddHttpClientInstrumentation();
                if (!builder.Properties.ContainsKey(OwnServerSpansProperty))
                {
                    tracing.AddAspNetCoreInstrumentation(options =>
                        // Probes and scrapes are noise in a trace view.
                        options.Filter = context => !IsInfrastructurePath(context.Request.Path));
                }
            });

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            // The last export happens while the process stops, and locally the dashboard (the collector) stops at the
            // same moment: an export to a collector that accepts but no longer answers waited out the default 10 s
            // timeout, so every Ctrl-C left the agents running for 12 s. Loopback exports take milliseconds, so in
            // Development (the local AppHost) the timeout is 1 s; elsewhere the exporter's default stands, and an explicit
            // OTEL_EXPORTER_OTLP_TIMEOUT (ms) always wins.
            if (builder.Environment.IsDevelopment() && string.IsNullOrWhiteSpace(builder.Configuration[OtlpTimeoutKey]))
            {
                builder.Configuration[OtlpTimeoutKey] = DevelopmentOtlpTimeoutMilliseconds;
            }

            builder.Services.AddOpenTelemetry().UseOtlpExporter();

            // The last export at stop: the three signals in parallel within one deadline (see FinalTelemetryExport).
            var finalExportDeadline = builder.Environment.IsDevelopment()
                ? FinalTelemetryExport.DevelopmentDeadline
                : TimeSpan.FromMilliseconds(builder.Configuration.GetValue(OtlpTimeoutKey, DefaultOtlpTimeoutMilliseconds));
            builder.Services.AddHostedService(services => new FinalTelemetryExport(
                services, services.GetRequiredService<IHostApplicationLifetime>(), finalExportDeadline));

            // The exporter takes its HttpClients from the factory, so the resilience defaults below would apply to it
            // too: retries with backoff turned a collector that is down into a 13-second flush on every shutdown
            // (long enough for orchestrators to give up stopping the process). Telemetry export is best effort and
            // has its own timeout; it opts out.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is the documented opt-out; still marked experimental in 10.x.
            foreach (var exporterClient in OtlpExporterHttpClientNames)
            {
                builder.Services.AddHttpClient(exporterClient).RemoveAllResilienceHandlers();
            }
#pragma warning restore EXTEXP0001
        }

        return builder;
    }

    /// <summary>
    /// Renames the instruments whose Prometheus names <c>promtool check metrics</c> rejects: a gauge must not end in
    /// <c>_count</c>, <c>_sum</c> or <c>_bucket</c> (those suffixes belong to histograms). The runtime's three are
    /// named; any other such instrument gets <c>.current</c> appended. Teams lint their scrape targets in CI.
    /// </summary>
    public static MeterProviderBuilder AddLintCleanNames(this MeterProviderBuilder metrics) =>
        metrics.AddView(instrument => instrument switch
        {
            { Name: "dotnet.assembly.count" } => new MetricStreamConfiguration { Name = "dotnet.assemblies.loaded" },
            { Name: "dotnet.process.cpu.count" } => new MetricStreamConfiguration { Name = "dotnet.process.cpus" },
            { Name: "dotnet.timer.count" } => new MetricStreamConfiguration { Name = "dotnet.timers.active" },
            // Counters get _total and histograms own these suffixes; only what Prometheus calls a gauge is renamed.
            _ when !IsPrometheusGauge(instrument) => null,
            _ when HistogramSuffixes.Any(suffix => instrument.Name.EndsWith(suffix, StringComparison.Ordinal))
                => new MetricStreamConfiguration { Name = instrument.Name + ".current" },
            _ => null,
        });

    private static bool IsPrometheusGauge(System.Diagnostics.Metrics.Instrument instrument) =>
        instrument.GetType().Name.Split('`')[0] is "Gauge" or "ObservableGauge" or "UpDownCounter" or "ObservableUpDownCounter";

    private static readonly string[] HistogramSuffixes = [".count", ".sum", ".bucket", "_count", "_sum", "_bucket"];

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> (readiness: every check), <c>/alive</c> (liveness: only checks tagged live) and
    /// <c>/metrics</c> (Prometheus text). Mapped in every environment: Kubernetes probes need them. An agent maps its
    /// <c>/identity</c> as well (the agent library's <c>MapAgentEndpoints</c>).
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthPaths.Health, new HealthCheckOptions { ResponseWriter = WriteReadinessAsync });
        app.MapHealthChecks(HealthPaths.Alive, new HealthCheckOptions { Predicate = r => r.Tags.Contains(LiveTag) });
        app.MapPrometheusScrapingEndpoint(HealthPaths.Metrics);
        return app;
    }

    // The default plain-text answer, except that a startup check that is not Healthy makes the answer 503.
    private static Task WriteReadinessAsync(HttpContext context, HealthReport report)
    {
        var starting = report.Entries.Values.Any(e => e.Status != HealthStatus.Healthy && e.Tags.Contains(StartupTag));
        if (starting)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        }

        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(starting ? HealthStatus.Unhealthy.ToString() : report.Status.ToString());
    }

    /// <summary>Probes and scrapes (<c>/health</c>, <c>/alive</c>, <c>/metrics</c>): noise in a trace view.</summary>
    public static bool IsInfrastructurePath(Microsoft.AspNetCore.Http.PathString path) =>
        path.StartsWithSegments(HealthPaths.Health)
        || path.StartsWithSegments(HealthPaths.Alive)
        || path.StartsWithSegments(HealthPaths.Metrics);
}
