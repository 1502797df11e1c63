using AgentAspire.Contracts;

namespace Gateway.Routing;

/// <summary>The two tracks a request can be routed to; the numeric values index per-track arrays.</summary>
public enum Track
{
    Stable = 0,
    Canary = 1,
}

/// <summary>Names of tracks as they appear on the wire (headers, metric tags, JSON).</summary>
public static class TrackNames
{
    public static string Of(Track track) => track == Track.Canary ? Tracks.Canary : Tracks.Stable;

    /// <summary>Parses <c>stable</c> or <c>canary</c> (any case); anything else is not a track.</summary>
    public static bool TryParse(ReadOnlySpan<char> value, out Track track)
    {
        if (value.Equals(Tracks.Canary, StringComparison.OrdinalIgnoreCase))
        {
            track = Track.Canary;
            return true;
        }

        track = Track.Stable;
        return value.Equals(Tracks.Stable, StringComparison.OrdinalIgnoreCase);
    }
}
