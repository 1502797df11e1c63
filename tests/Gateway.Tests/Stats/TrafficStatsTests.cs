using AgentAspire.Contracts;
using Gateway.Routing;
using Gateway.Stats;
using Gateway.Tests.Routing;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Tests.Stats;

public sealed class TrafficStatsTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Requests_and_errors_are_counted_per_track_and_status_class()
    {
        using var stats = new TrafficStats(_time);
        Record(stats, Track.Stable, StatusClass.Success, ms: 1, times: 90);
        Record(stats, Track.Stable, StatusClass.ClientError, ms: 1, times: 5);
        Record(stats, Track.Canary, StatusClass.Success, ms: 2, times: 7);
        Record(stats, Track.Canary, StatusClass.ServerError, ms: 2, times: 2);
        Record(stats, Track.Canary, StatusClass.Transport, ms: 2, times: 1);

        var summary = stats.Summarize(60, Snapshots.WithWeight(1_000));

        Assert.Equal(95, summary.Stable.Requests);
        Assert.Equal(new ErrorCounts(5, 0, 0), summary.Stable.Errors);
        Assert.Equal(0, summary.Stable.ErrorRate); // 4xx are the client's, not the track's
        Assert.Equal(10, summary.Canary.Requests);
        Assert.Equal(new ErrorCounts(0, 2, 1), summary.Canary.Errors);
        Assert.Equal(0.3, summary.Canary.ErrorRate);
        Assert.Equal(("1.0.0", "1.1.0", 1_000), (summary.Stable.Version, summary.Canary.Version, summary.Weight));
    }

    [Fact]
    public void Latency_percentiles_come_from_the_histogram()
    {
        using var stats = new TrafficStats(_time);
        Record(stats, Track.Stable, StatusClass.Success, ms: 0.9, times: 98);
        Record(stats, Track.Stable, StatusClass.Success, ms: 45, times: 2);

        var latency = stats.Summarize(60, Snapshots.WithWeight(0)).Stable.LatencyMs;

        Assert.InRange(latency.P50!.Value, 0.8, 1.0);
        Assert.InRange(latency.P95!.Value, 0.8, 1.0);
        Assert.InRange(latency.P99!.Value, 40, 50);
        Assert.Null(stats.Summarize(60, Snapshots.WithWeight(0)).Canary.LatencyMs.P50);
    }

    [Fact]
    public void Requests_older_than_the_window_drop_out()
    {
        using var stats = new TrafficStats(_time);
        Record(stats, Track.Canary, StatusClass.Success, ms: 1, times: 4);
        for (var second = 0; second < 10; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1)); // fires the once-a-second capture
        }

        Record(stats, Track.Canary, StatusClass.ServerError, ms: 1, times: 1);

        Assert.Equal(1, stats.Summarize(5, Snapshots.WithWeight(0)).Canary.Requests);
        Assert.Equal(5, stats.Summarize(60, Snapshots.WithWeight(0)).Canary.Requests);
    }

    [Fact]
    public void The_ring_keeps_working_past_its_length()
    {
        using var stats = new TrafficStats(_time);
        for (var second = 0; second < 1_500; second++)
        {
            Record(stats, Track.Stable, StatusClass.Success, ms: 1, times: 1);
            stats.Tick();
        }

        Assert.Equal(600, stats.Summarize(600, Snapshots.WithWeight(0)).Stable.Requests);
        Assert.Equal(10, stats.Summarize(10, Snapshots.WithWeight(0)).Stable.Requests);
    }

    [Theory]
    [InlineData(200, null, StatusClass.Success)]
    [InlineData(404, null, StatusClass.ClientError)]
    [InlineData(503, null, StatusClass.ServerError)]
    [InlineData(502, ForwarderError.Request, StatusClass.Transport)]
    [InlineData(504, ForwarderError.RequestTimedOut, StatusClass.Transport)]
    [InlineData(502, ForwarderError.RequestCanceled, StatusClass.ServerError)]
    public void Status_classes_separate_agent_errors_from_transport_failures(int status, ForwarderError? error, StatusClass expected)
    {
        Assert.Equal(expected, StatusClasses.Classify(status, error));
    }

    private void Record(TrafficStats stats, Track track, StatusClass statusClass, double ms, int times)
    {
        var elapsed = (long)(ms * _time.TimestampFrequency / 1000);
        for (var i = 0; i < times; i++)
        {
            stats.Record(track, statusClass, elapsed);
        }
    }
}
