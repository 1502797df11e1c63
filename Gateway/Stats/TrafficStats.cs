using AgentAspire.Contracts;
using Gateway.Routing;

namespace Gateway.Stats;

/// <summary>Per-track request counts, errors and latency over a recent window.</summary>
public interface ITrafficStats
{
    /// <summary>The longest window <see cref="Summarize"/> answers for.</summary>
    const int MaxWindowSeconds = 600;

    /// <summary>Records one finished request; lock-free, called on the hot path.</summary>
    void Record(Track track, StatusClass statusClass, long elapsedTimestamp);

    /// <summary>What each track saw over the last <paramref name="windowSeconds"/> seconds (1..600).</summary>
    TrafficSummary Summarize(int windowSeconds, RoutingSnapshot routing);
}

/// <summary>
/// Cumulative counters that only grow (one interlocked increment each, no reset race), plus a once-a-second
/// snapshot of them in a ring. A window's numbers are "now minus the snapshot taken window seconds ago".
/// </summary>
internal sealed class TrafficStats : ITrafficStats, IDisposable
{
    private const int Fields = 4; // requests, 4xx, 5xx, transport; then the latency buckets
    private const int RequestsField = 0;

    private readonly TimeProvider _timeProvider;
    private readonly long[] _upperBounds;
    private readonly TrackCounters[] _tracks;
    private readonly Capture?[] _ring = new Capture?[ITrafficStats.MaxWindowSeconds + 1];
    private readonly ITimer _timer;
    private long _ticks;

    public TrafficStats(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _upperBounds = LatencyBuckets.UpperBoundsInTimestamps(timeProvider.TimestampFrequency);
        _tracks = [new TrackCounters(), new TrackCounters()];
        _ring[0] = new Capture(timeProvider.GetUtcNow(), new long[2][] { new long[Width], new long[Width] });
        _timer = timeProvider.CreateTimer(static state => ((TrafficStats)state!).Tick(), this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    private static int Width => Fields + LatencyBuckets.Count;

    public void Record(Track track, StatusClass statusClass, long elapsedTimestamp)
    {
        var counters = _tracks[(int)track].Values;
        Interlocked.Increment(ref counters[RequestsField]);
        if (statusClass != StatusClass.Success)
        {
            Interlocked.Increment(ref counters[(int)statusClass]);
        }

        Interlocked.Increment(ref counters[Fields + LatencyBuckets.IndexOf(elapsedTimestamp, _upperBounds)]);
    }

    public TrafficSummary Summarize(int windowSeconds, RoutingSnapshot routing)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowSeconds, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(windowSeconds, ITrafficStats.MaxWindowSeconds);

        var ticks = Volatile.Read(ref _ticks);
        // Before the gateway has run for a whole window, the window starts at start-up (the zero capture).
        var baseline = _ring[Math.Max(0, ticks - windowSeconds) % _ring.Length]!;
        var now = CaptureNow();
        return new TrafficSummary(
            routing.Agent,
            windowSeconds,
            baseline.At,
            now.At,
            routing.Revision,
            routing.Weight,
            Summarize(Track.Stable, routing, now, baseline),
            Summarize(Track.Canary, routing, now, baseline),
            LatencyBuckets.UpperBoundsMs);
    }

    public void Dispose() => _timer.Dispose();

    /// <summary>Takes the once-a-second capture; internal so tests can drive it without a timer.</summary>
    internal void Tick()
    {
        var next = Volatile.Read(ref _ticks) + 1;
        _ring[next % _ring.Length] = CaptureNow();
        Volatile.Write(ref _ticks, next);
    }

    private static TrackTraffic Summarize(Track track, RoutingSnapshot routing, Capture now, Capture baseline)
    {
        var current = now.Values[(int)track];
        var before = baseline.Values[(int)track];
        Span<long> delta = stackalloc long[Width];
        for (var i = 0; i < delta.Length; i++)
        {
            delta[i] = current[i] - before[i];
        }

        var requests = delta[RequestsField];
        var failures = delta[(int)StatusClass.ServerError] + delta[(int)StatusClass.Transport];
        var latency = delta[Fields..];
        return new TrackTraffic(
            TrackNames.Of(track),
            routing.VersionOf(track),
            requests,
            new ErrorCounts(delta[(int)StatusClass.ClientError], delta[(int)StatusClass.ServerError], delta[(int)StatusClass.Transport]),
            requests == 0 ? 0 : Math.Round((double)failures / requests, 6),
            new LatencySummary(
                LatencyBuckets.Percentile(latency, 0.50),
                LatencyBuckets.Percentile(latency, 0.95),
                LatencyBuckets.Percentile(latency, 0.99)),
            latency.ToArray());
    }

    private Capture CaptureNow()
    {
        var values = new long[_tracks.Length][];
        for (var t = 0; t < _tracks.Length; t++)
        {
            var source = _tracks[t].Values;
            var copy = new long[source.Length];
            for (var i = 0; i < source.Length; i++)
            {
                copy[i] = Volatile.Read(ref source[i]);
            }

            values[t] = copy;
        }

        return new Capture(_timeProvider.GetUtcNow(), values);
    }

    private sealed record Capture(DateTimeOffset At, long[][] Values);

    /// <summary>One track's cumulative counters; its own array so the two tracks do not share cache lines.</summary>
    private sealed class TrackCounters
    {
        public readonly long[] Values = new long[Width];
    }
}
