using AgentAspire.Contracts;
using RolloutApi.Http;

namespace RolloutApi.Routing;

/// <summary>
/// Holds the latest committed routing table and pushes it to stream subscribers, through the one latest-value
/// broadcaster RolloutApi's streams share (<see cref="LatestValueBroadcaster{TKey, T}"/>): a slow reader skips
/// intermediate tables but always ends on the latest one.
/// </summary>
public sealed class RoutingTableBroadcaster
{
    // One table for all agents: a single key.
    private const int Key = 0;

    private readonly LatestValueBroadcaster<int, RoutingTable> _broadcaster = new(table => table.Revision);
    private readonly TimeProvider _time;

    public RoutingTableBroadcaster(TimeProvider time)
    {
        _time = time;
        // Revision 0 is in force before anything is published: a table must be newer than it.
        _broadcaster.Publish(Key, RoutingTable.Empty);
    }

    /// <summary>The newest table published so far.</summary>
    public RoutingTable Current => _broadcaster.Current(Key)!;

    /// <summary>Raised after a table became current, with the time it did (outside the publish lock; must not block).</summary>
    public event Action<RoutingTable, DateTimeOffset>? Published;

    public int SubscriberCount => _broadcaster.SubscriberCount;

    /// <summary>
    /// Publishes <paramref name="table"/> unless a newer one was already published (two writers can commit in one order and
    /// publish in the other; the revision decides). Returns whether it became current.
    /// </summary>
    public bool Publish(RoutingTable table)
    {
        if (!_broadcaster.Publish(Key, table))
        {
            return false;
        }

        Published?.Invoke(table, _time.GetUtcNow());
        return true;
    }

    /// <summary>The current table at once, then every newer one until <paramref name="cancellationToken"/> fires.</summary>
    public IAsyncEnumerable<RoutingTable> SubscribeAsync(CancellationToken cancellationToken) =>
        _broadcaster.SubscribeAsync(Key, initial: null, cancellationToken);
}
