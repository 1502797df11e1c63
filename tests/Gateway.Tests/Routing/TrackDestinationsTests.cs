using Gateway.Routing;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace Gateway.Tests.Routing;

public sealed class TrackDestinationsTests
{
    [Fact]
    public void Destinations_split_by_their_track_metadata_including_discovered_replicas()
    {
        DestinationState[] available =
        [
            Destination("stable[http://127.0.0.1:5001]", Track.Stable),
            Destination("stable[http://127.0.0.1:5002]", Track.Stable),
            Destination("canary[http://127.0.0.1:6001]", Track.Canary),
        ];

        var split = new TrackDestinations().For(available);

        Assert.Equal(["stable[http://127.0.0.1:5001]", "stable[http://127.0.0.1:5002]"], split.Of(Track.Stable).Select(d => d.DestinationId));
        Assert.Equal(["canary[http://127.0.0.1:6001]"], split.Of(Track.Canary).Select(d => d.DestinationId));
    }

    [Fact]
    public void The_split_is_computed_once_per_list_and_again_when_yarp_hands_out_a_new_list()
    {
        var destinations = new TrackDestinations();
        DestinationState[] first = [Destination("stable", Track.Stable), Destination("canary", Track.Canary)];
        DestinationState[] second = [Destination("stable", Track.Stable)];

        var a = destinations.For(first);
        var b = destinations.For(first);
        var c = destinations.For(second);

        Assert.Same(a, b);
        Assert.NotSame(a, c);
        Assert.Empty(c.Of(Track.Canary));
    }

    [Fact]
    public void A_destination_without_track_metadata_counts_as_stable()
    {
        var bare = new DestinationState("x", new DestinationModel(new DestinationConfig { Address = "http://x" }));

        Assert.Equal(Track.Stable, TrackDestinations.TrackOf(bare));
    }

    internal static DestinationState Destination(string id, Track track) => new(id, new DestinationModel(new DestinationConfig
    {
        Address = "http://127.0.0.1:1",
        Metadata = new Dictionary<string, string> { [ProxyConfigFactory.TrackMetadataKey] = TrackNames.Of(track) },
    }));
}
