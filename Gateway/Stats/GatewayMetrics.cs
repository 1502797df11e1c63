using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentAspire.Contracts;
using Gateway.Routing;

namespace Gateway.Stats;

/// <summary>
/// The gateway's OpenTelemetry instruments, per track: requests, errors by status class and latency, each tagged with
/// agent, track and version (Prometheus: <c>gateway_requests_total</c>, <c>gateway_errors_total</c>,
/// <c>gateway_request_duration_seconds</c>).
/// </summary>
public sealed class GatewayMetrics
{
    /// <summary>The meter's name; handed to <c>AddServiceDefaults</c> so the exporters pick it up.</summary>
    public const string MeterName = "AgentAspire.Gateway";

    public const string RequestsInstrument = "gateway.requests";
    public const string ErrorsInstrument = "gateway.errors";
    public const string DurationInstrument = "gateway.request.duration";
    public const string StatusClassTag = "status_class";

    // Seconds; the same shape as ASP.NET Core's request duration so the two line up on a dashboard.
    private static readonly double[] DurationBuckets =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    private readonly Counter<long> _requests;
    private readonly Counter<long> _errors;
    private readonly Histogram<double> _duration;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        #pragma warning disable CA2000 // IMeterFactory owns the meters it creates and disposes them with the service provider
        var meter = meterFactory.Create(MeterName);
        #pragma warning restore CA2000
        _requests = meter.CreateCounter<long>(RequestsInstrument, "{request}", "Requests the gateway routed, per track.");
        _errors = meter.CreateCounter<long>(ErrorsInstrument, "{request}", "Failed requests per track, by status class (4xx, 5xx, transport).");
        _duration = meter.CreateHistogram(DurationInstrument, "s", "Time from the gateway receiving a request to finishing its response, per track.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
    }

    public void Record(string agent, Track track, string version, StatusClass statusClass, double seconds)
    {
        var tags = new TagList
        {
            { AgentTelemetryNames.AgentLabel, agent },
            { AgentTelemetryNames.TrackLabel, TrackNames.Of(track) },
            { AgentTelemetryNames.VersionLabel, version },
        };
        _requests.Add(1, tags);
        _duration.Record(seconds, tags);
        if (statusClass != StatusClass.Success)
        {
            tags.Add(StatusClassTag, StatusClasses.NameOf(statusClass));
            _errors.Add(1, tags);
        }
    }
}
