using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentAspire.Agent.Identity;
using AgentAspire.Contracts;
using AgentWorker.Queue;

namespace AgentWorker.Telemetry;

/// <summary>
/// The agent's four instruments. Users' dashboards and alerts depend on these exact names, so they are spelled out
/// whole: the Prometheus exporter neither adds <c>_total</c> to a counter that has it nor a unit suffix that is there.
/// </summary>
public sealed class AgentMetrics
{
    public const string MeterName = AgentTelemetry.Name;

    public const string ProcessedItems = "agent_processed_items_total";
    public const string FailedItems = "agent_failed_items_total";
    public const string ApiRequestDuration = "agent_api_request_duration_seconds";
    public const string QueueSize = "agent_queue_size";

    // The exporter's default boundaries are sized for milliseconds; these suit an HTTP call measured in seconds.
    private static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30];

    private readonly IAgentIdentity _identity;
    private readonly Counter<long> _processed;
    private readonly Counter<long> _failed;
    private readonly Histogram<double> _apiRequestDuration;

    public AgentMetrics(IMeterFactory meterFactory, IAgentIdentity identity, WorkQueue queue)
    {
        _identity = identity;
        #pragma warning disable CA2000 // IMeterFactory owns the meters it creates and disposes them with the service provider
        var meter = meterFactory.Create(MeterName);
        #pragma warning restore CA2000
        _processed = meter.CreateCounter<long>(ProcessedItems, unit: "{item}", description: "Work items processed successfully.");
        _failed = meter.CreateCounter<long>(FailedItems, unit: "{item}", description: "Work items whose processing failed.");
        _apiRequestDuration = meter.CreateHistogram(
            ApiRequestDuration,
            unit: "s",
            description: "Duration of the calls to the upstream API.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        // Both counters exist from the start at 0 (Prometheus practice): a rate() or an alert on failures needs the series
        // before the first failure, and a dashboard shows "no failures" instead of "no data".
        _processed.Add(0, IdentityTags());
        _failed.Add(0, IdentityTags());
        // Observed at collection time, so the gauge is always the queue's current length under the current version label.
        meter.CreateObservableGauge(
            QueueSize,
            () => new Measurement<int>(queue.Count, IdentityTags()),
            unit: "{item}",
            description: "Work items waiting in the background queue.");
    }

    public void ItemProcessed() => _processed.Add(1, IdentityTags());

    public void ItemFailed() => _failed.Add(1, IdentityTags());

    public void ApiRequestCompleted(TimeSpan duration) => _apiRequestDuration.Record(duration.TotalSeconds, IdentityTags());

    // The version label can change while the process runs (promotion), so it is read for every measurement.
    private TagList IdentityTags() => new()
    {
        { AgentTelemetryNames.AgentLabel, _identity.Agent },
        { AgentTelemetryNames.TrackLabel, _identity.Track },
        { AgentTelemetryNames.VersionLabel, _identity.Version },
    };
}
