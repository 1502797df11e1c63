using System.Runtime.CompilerServices;
using System.Threading.Channels;
using AgentAspire.Contracts;

namespace RolloutApi.Routing;

/// <summary>
/// Holds the latest committed routing table and pushes it to stream subscribers. Publishing never waits for a subscriber:
/// each one has a single-slot mailbox that keeps only the newest table, so a slow reader skips intermediate tables but
/// always ends on the latest one.
/// </summary>
public sealed class RoutingTableBroadcaster(TimeProvider time)
{
    private readonly Lock _publishLock = new();
    private readonly HashSet<Channel<RoutingTable>> _subscribers = [];
    private RoutingTable _current = RoutingTable.Empty;

    /// <summary>The newest table published so far.</summary>
    public RoutingTable Current => Volatile.Read(ref _current);

    /// <summary>Raised after a table became current, with the time it did (outside the publish lock; must not block).</summary>
    public event Action<RoutingTable, DateTimeOffset>? Published;

    public int SubscriberCount
    {
        get
        {
            lock (_publishLock)
            {
                return _subscribers.Count;
            }
        }
    }

    /// <summary>
    /// Publishes <paramref name="table"/> unless a newer one was already published (two writers can commit in one order and
    /// publish in the other; the revision decides). Returns whether it became current.
    /// </summary>
    public bool Publish(RoutingTable table)
    {
        // The lock orders "become current" with "hand to subscribers", so a mailbox can never end on an older table.
        // Only writers contend for it, for the length of a few TryWrite calls that never block.
        lock (_publishLock)
        {
            if (table.Revision <= _current.Revision)
            {
                return false;
            }

            Volatile.Write(ref _current, table);
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(table);
            }
        }

        Published?.Invoke(table, time.GetUtcNow());
        return true;
    }

    /// <summary>The current table at once, then every newer one until <paramref name="cancellationToken"/> fires.</summary>
    public async IAsyncEnumerable<RoutingTable> SubscribeAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var mailbox = Channel.CreateBounded<RoutingTable>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = false,
        });
        RoutingTable last;
        lock (_publishLock)
        {
            _subscribers.Add(mailbox);
            last = _current;
        }

        try
        {
            yield return last;
            while (await mailbox.Reader.WaitToReadAsync(cancellationToken))
            {
                while (mailbox.Reader.TryRead(out var table))
                {
                    if (table.Revision > last.Revision)
                    {
                        last = table;
                        yield return table;
                    }
                }
            }
        }
        finally
        {
            lock (_publishLock)
            {
                _subscribers.Remove(mailbox);
            }
        }
    }
}
