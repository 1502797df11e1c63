using Yarp.ReverseProxy.Model;

namespace Gateway.Routing;

/// <summary>
/// Splits YARP's available destinations into the two tracks. YARP hands every request the same list instance until
/// health or configuration changes it, so the split is computed once per list and found again by reference:
/// no allocation and no lock per request.
/// </summary>
internal sealed class TrackDestinations
{
    private Split? _last;

    public Split For(IReadOnlyList<DestinationState> available)
    {
        var split = Volatile.Read(ref _last);
        if (split is not null && ReferenceEquals(split.Source, available))
        {
            return split;
        }

        // A racing thread may build the same split; either result is correct and the last write wins.
        split = Split.Build(available);
        Volatile.Write(ref _last, split);
        return split;
    }

    /// <summary>The track a destination serves, from the metadata it was configured with.</summary>
    public static Track TrackOf(DestinationState destination) =>
        destination.Model.Config.Metadata is { } metadata
        && metadata.TryGetValue(ProxyConfigFactory.TrackMetadataKey, out var name)
        && TrackNames.TryParse(name, out var track)
            ? track
            : Track.Stable;

    /// <summary>One list's destinations by track.</summary>
    internal sealed class Split
    {
        private readonly IReadOnlyList<DestinationState> _stable;
        private readonly IReadOnlyList<DestinationState> _canary;

        private Split(IReadOnlyList<DestinationState> source, IReadOnlyList<DestinationState> stable, IReadOnlyList<DestinationState> canary)
        {
            Source = source;
            _stable = stable;
            _canary = canary;
        }

        public IReadOnlyList<DestinationState> Source { get; }

        public IReadOnlyList<DestinationState> Of(Track track) => track == Track.Canary ? _canary : _stable;

        public static Split Build(IReadOnlyList<DestinationState> available)
        {
            var stable = new List<DestinationState>();
            var canary = new List<DestinationState>();
            foreach (var destination in available)
            {
                (TrackOf(destination) == Track.Canary ? canary : stable).Add(destination);
            }

            return new Split(available, Compact(stable), Compact(canary));
        }

        // A DestinationState is itself a one-element list (YARP uses the same trick), and YARP's load balancer skips
        // its policy for a single destination: the common one-replica track costs nothing extra.
        private static IReadOnlyList<DestinationState> Compact(List<DestinationState> destinations) =>
            destinations.Count == 1 ? destinations[0] : destinations.ToArray();
    }
}
