using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace RolloutApi.Http;

/// <summary>
/// The latest value per key (a routing table, a track's flag snapshot) and its stream subscribers. Publishing never
/// waits for a subscriber: each has a single-slot mailbox that keeps only the newest value, so a slow reader skips
/// intermediate values but always ends on the latest one. Versions only grow: an older or equal value is refused.
/// </summary>
/// <remarks>Used by both of RolloutApi's streams (<c>RoutingTableBroadcaster</c>, <c>FlagSnapshotBroadcaster</c>).</remarks>
public sealed class LatestValueBroadcaster<TKey, T>(Func<T, long> versionOf)
    where TKey : notnull
    where T : class
{
    private readonly Lock _lock = new();
    private readonly Dictionary<TKey, Slot> _slots = [];

    /// <summary>The newest value published for <paramref name="key"/>, or null when none has been.</summary>
    public T? Current(TKey key)
    {
        lock (_lock)
        {
            return _slots.TryGetValue(key, out var slot) ? slot.Current : null;
        }
    }

    public int SubscriberCount
    {
        get
        {
            lock (_lock)
            {
                return _slots.Values.Sum(s => s.Subscribers.Count);
            }
        }
    }

    /// <summary>
    /// Publishes <paramref name="value"/> unless a newer one was published for its key already (two writers can commit in
    /// one order and publish in the other; the version decides). Returns whether it became current.
    /// </summary>
    public bool Publish(TKey key, T value)
    {
        // The lock orders "become current" with "hand to subscribers", so a mailbox can never end on an older value.
        // Only writers and (un)subscribing streams contend for it, for a few TryWrite calls that never block.
        lock (_lock)
        {
            return PublishLocked(key, value, out _);
        }
    }

    /// <summary>
    /// The key's current value at once (at least <paramref name="initial"/> when given, which the caller read from the
    /// database), then every newer one until <paramref name="cancellationToken"/> fires. With no initial value and
    /// nothing published yet, the first value is the first one published.
    /// </summary>
    public async IAsyncEnumerable<T> SubscribeAsync(TKey key, T? initial, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var mailbox = Channel.CreateBounded<T>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = false,
        });
        T? last;
        lock (_lock)
        {
            // Publish and subscribe in one step: whatever is newer than "last" can only arrive through the mailbox.
            Slot slot;
            if (initial is not null)
            {
                PublishLocked(key, initial, out slot);
            }
            else if (!_slots.TryGetValue(key, out slot!))
            {
                _slots[key] = slot = new Slot();
            }

            slot.Subscribers.Add(mailbox);
            last = slot.Current;
        }

        try
        {
            if (last is not null)
            {
                yield return last;
            }

            while (await mailbox.Reader.WaitToReadAsync(cancellationToken))
            {
                while (mailbox.Reader.TryRead(out var value))
                {
                    if (last is null || versionOf(value) > versionOf(last))
                    {
                        last = value;
                        yield return value;
                    }
                }
            }
        }
        finally
        {
            lock (_lock)
            {
                _slots[key].Subscribers.Remove(mailbox);
            }
        }
    }

    private bool PublishLocked(TKey key, T value, out Slot slot)
    {
        if (!_slots.TryGetValue(key, out slot!))
        {
            _slots[key] = slot = new Slot();
        }

        if (slot.Current is { } current && versionOf(value) <= versionOf(current))
        {
            return false;
        }

        slot.Current = value;
        foreach (var subscriber in slot.Subscribers)
        {
            subscriber.Writer.TryWrite(value);
        }

        return true;
    }

    private sealed class Slot
    {
        public T? Current { get; set; }

        public HashSet<Channel<T>> Subscribers { get; } = [];
    }
}
