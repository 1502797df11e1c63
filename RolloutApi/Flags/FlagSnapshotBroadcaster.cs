using AgentAspire.Contracts;
using RolloutApi.Http;

namespace RolloutApi.Flags;

/// <summary>
/// Holds the latest committed flag snapshot per agent and track and pushes each new one to that track's stream subscribers,
/// through the one latest-value broadcaster RolloutApi's streams share (<see cref="LatestValueBroadcaster{TKey, T}"/>):
/// a slow reader skips intermediate snapshots but always ends on the latest one.
/// </summary>
public sealed class FlagSnapshotBroadcaster
{
    private readonly LatestValueBroadcaster<(string Agent, string Track), FlagSnapshot> _broadcaster = new(snapshot => snapshot.Version);

    /// <summary>The newest snapshot published for the track, or null when none has been (it is then read from the database).</summary>
    public FlagSnapshot? Current(string agent, string track) => _broadcaster.Current((agent, track));

    public int SubscriberCount => _broadcaster.SubscriberCount;

    /// <summary>
    /// Publishes <paramref name="snapshot"/> unless a newer one of its track was published already (two writers can commit in
    /// one order and publish in the other; the version decides). Returns whether it became current.
    /// </summary>
    public bool Publish(FlagSnapshot snapshot) => _broadcaster.Publish((snapshot.Agent, snapshot.Track), snapshot);

    /// <summary>
    /// The track's current snapshot at once (at least <paramref name="initial"/>, which the caller read from the database),
    /// then every newer one until <paramref name="cancellationToken"/> fires.
    /// </summary>
    public IAsyncEnumerable<FlagSnapshot> SubscribeAsync(FlagSnapshot initial, CancellationToken cancellationToken) =>
        _broadcaster.SubscribeAsync((initial.Agent, initial.Track), initial, cancellationToken);
}
