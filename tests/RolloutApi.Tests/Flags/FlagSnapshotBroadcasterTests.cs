using System.Text.Json;
using AgentAspire.Contracts;
using RolloutApi.Flags;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Flags;

public sealed class FlagSnapshotBroadcasterTests
{
    private static readonly JsonElement NoFlags = JsonDocument.Parse("""{"feature_flags": []}""").RootElement.Clone();

    [Fact]
    public void Only_a_newer_version_of_a_track_becomes_current()
    {
        var broadcaster = new FlagSnapshotBroadcaster();

        Assert.True(broadcaster.Publish(Snapshot(Tracks.Stable, 5)));
        Assert.False(broadcaster.Publish(Snapshot(Tracks.Stable, 5)));
        Assert.False(broadcaster.Publish(Snapshot(Tracks.Stable, 4)));
        Assert.True(broadcaster.Publish(Snapshot(Tracks.Canary, 1)));

        Assert.Equal(5, broadcaster.Current("agent", Tracks.Stable)!.Version);
        Assert.Equal(1, broadcaster.Current("agent", Tracks.Canary)!.Version);
        Assert.Null(broadcaster.Current("other", Tracks.Stable));
    }

    [Fact]
    public async Task A_subscriber_that_does_not_read_never_holds_up_publishing_and_ends_on_the_newest()
    {
        var broadcaster = new FlagSnapshotBroadcaster();
        using var cts = new CancellationTokenSource(Deadline.Stream);
        await using var subscription = broadcaster.SubscribeAsync(Snapshot(Tracks.Stable, 1), cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await subscription.MoveNextAsync().AsTask().WaitAsync(Deadline.Stream));
        Assert.Equal(1, subscription.Current.Version);

        for (var version = 2; version <= 10_000; version++)
        {
            Assert.True(broadcaster.Publish(Snapshot(Tracks.Stable, version)));
            broadcaster.Publish(Snapshot(Tracks.Canary, version));
        }

        Assert.True(await subscription.MoveNextAsync().AsTask().WaitAsync(Deadline.Stream));
        Assert.Equal(10_000, subscription.Current.Version);
        Assert.Equal(Tracks.Stable, subscription.Current.Track);
        Assert.Equal(1, broadcaster.SubscriberCount);
    }

    [Fact]
    public async Task Subscribing_with_an_older_snapshot_starts_from_the_current_one()
    {
        var broadcaster = new FlagSnapshotBroadcaster();
        broadcaster.Publish(Snapshot(Tracks.Canary, 7));
        using var cts = new CancellationTokenSource(Deadline.Stream);

        await using var subscription = broadcaster.SubscribeAsync(Snapshot(Tracks.Canary, 3), cts.Token).GetAsyncEnumerator(cts.Token);

        Assert.True(await subscription.MoveNextAsync().AsTask().WaitAsync(Deadline.Stream));
        Assert.Equal(7, subscription.Current.Version);
    }

    private static FlagSnapshot Snapshot(string track, long version) => new("agent", track, version, 1, "1.0.0", NoFlags);
}
