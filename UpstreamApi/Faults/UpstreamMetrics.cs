using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace UpstreamApi.Faults;

/// <summary>
/// What the upstream itself saw, per calling track: the other side's count, so a drill can check that a track's calls
/// really failed here rather than trusting the agent's own numbers.
/// </summary>
public sealed class UpstreamMetrics
{
    public const string MeterName = "UpstreamApi";
    public const string Requests = "upstream_requests_total";
    public const string TrackLabel = "track";
    public const string OutcomeLabel = "outcome";
    public const string Succeeded = "ok";
    public const string Failed = "failed";

    private readonly Counter<long> _requests;

    public UpstreamMetrics(IMeterFactory meterFactory)
    {
        #pragma warning disable CA2000 // IMeterFactory owns the meters it creates and disposes them with the service provider
        var meter = meterFactory.Create(MeterName);
        #pragma warning restore CA2000
        _requests = meter.CreateCounter<long>(Requests, unit: "{request}", description: "Calls the simulated upstream answered, by calling track and outcome.");
    }

    public void Answered(string track, bool failed) =>
        _requests.Add(1, new TagList { { TrackLabel, track }, { OutcomeLabel, failed ? Failed : Succeeded } });
}
