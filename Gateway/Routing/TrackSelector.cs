using AgentAspire.Contracts;

namespace Gateway.Routing;

/// <summary>Why a request went to its track.</summary>
public enum TrackReason
{
    /// <summary>The request asked for the track (<c>X-Agent-Track</c>).</summary>
    Forced,

    /// <summary>The request carried a client key: its bucket decides, so the client keeps its track.</summary>
    Sticky,

    /// <summary>No key: the weighted split decides, exactly by weight.</summary>
    Split,
}

/// <summary>A routing decision for one request.</summary>
public readonly record struct TrackDecision(Track Track, TrackReason Reason);

/// <summary>Chooses the track for a request from the routing snapshot in force.</summary>
public interface ITrackSelector
{
    /// <param name="snapshot">The routing in force.</param>
    /// <param name="forced">The track the request asked for, if any.</param>
    /// <param name="clientKey">The client's sticky key (header or cookie), if any.</param>
    TrackDecision Select(RoutingSnapshot snapshot, Track? forced, ReadOnlySpan<char> clientKey);
}

/// <summary>
/// Forced track first, then the client's bucket, then an exact weighted split. Lock-free: the split is one
/// interlocked increment, and only when the weight is strictly between 0 and 10,000.
/// </summary>
internal sealed class TrackSelector : ITrackSelector
{
    private long _sequence;

    public TrackDecision Select(RoutingSnapshot snapshot, Track? forced, ReadOnlySpan<char> clientKey)
    {
        if (forced is { } track)
        {
            return new TrackDecision(track, TrackReason.Forced);
        }

        if (!clientKey.IsEmpty)
        {
            return new TrackDecision(ClientBuckets.IsCanary(ClientBuckets.BucketOf(clientKey), snapshot.Weight) ? Track.Canary : Track.Stable, TrackReason.Sticky);
        }

        return new TrackDecision(NextIsCanary(snapshot.Weight) ? Track.Canary : Track.Stable, TrackReason.Split);
    }

    /// <summary>
    /// A low-discrepancy (Bresenham) split: request n goes to the canary iff floor((n+1)w/10000) > floor(nw/10000).
    /// Over any run of requests the canary count differs from n·w/10000 by less than one, so the share is exact
    /// without randomness; the pattern repeats every 10,000 requests, so n is taken modulo 10,000 and never overflows.
    /// </summary>
    internal bool NextIsCanary(int weight)
    {
        if (weight <= Weights.Min)
        {
            return false;
        }

        if (weight >= Weights.Max)
        {
            return true;
        }

        var n = (ulong)(Interlocked.Increment(ref _sequence) - 1) % Weights.Max;
        var w = (ulong)weight;
        return (n + 1) * w / Weights.Max > n * w / Weights.Max;
    }
}
