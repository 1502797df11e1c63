using System.Runtime.CompilerServices;
using System.Threading.Channels;
using AgentAspire.Contracts;

namespace RolloutApi.Flags;

/// <summary>
/// Holds the latest committed flag snapshot per agent and track and pushes each new one to that track's stream subscribers.
/// Publishing never waits for a subscriber: each has a single-slot mailbox that keeps only the newest snapshot, so a slow
/// reader skips intermediate snapshots but always ends on the latest one (the pattern of the routing table's broadcaster).
/// </summary>
public sealed class FlagSnapshotBroadcaster
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Agent, string Track), Slot> _slots = [];

    /// <summary>The newest snapshot published for the track, or null when none has been (it is then read from the database).</summary>
    public FlagSnapshot? Current(string agent, string track)
    {
        lock (_lock)
        {
            return _slots.TryGetValue((agent, track), out var slot) ? slot.Current : null;
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
    /// Publishes <paramref name="snapshot"/> unless a newer one of its track was published already (two writers can commit in
    /// one order and publish in the other; the version decides). Returns whether it became current.
    /// </summary>
    public bool Publish(FlagSnapshot snapshot)
    {
        // The lock orders "become current" with "hand to subscribers", so a mailbox can never end on an older snapshot.
        // Only writers and (un)subscribing streams contend for it, for a few TryWrite calls that never block.
        lock (_lock)
        {
            return PublishLocked(snapshot, out _);
        }
    }

    /// <summary>
    /// The track's current snapshot at once (at least <paramref name="initial"/>, which the caller read from the database),
    /// then every newer one until <paramref name="cancellationToken"/> fires.
    /// </summary>
    public async IAsyncEnumerable<FlagSnapshot> SubscribeAsync(
        FlagSnapshot initial, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var mailbox = Channel.CreateBounded<FlagSnapshot>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = false,
        });
        var key = (initial.Agent, initial.Track);
        FlagSnapshot last;
        lock (_lock)
        {
            // Publish and subscribe in one step: whatever is newer than "last" can only arrive through the mailbox.
            PublishLocked(initial, out var slot);
            slot.Subscribers.Add(mailbox);
            last = slot.Current!;
        }

        try
        {
            yield return last;
            while (await mailbox.Reader.WaitToReadAsync(cancellationToken))
            {
                while (mailbox.Reader.TryRead(out var snapshot))
                {
                    if (snapshot.Version > last.Version)
                    {
                        last = snapshot;
                        yield return snapshot;
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

    private bool PublishLocked(FlagSnapshot snapshot, out Slot slot)
    {
        var key = (snapshot.Agent, snapshot.Track);
        if (!_slots.TryGetValue(key, out slot!))
        {
            _slots[key] = slot = new Slot();
        }

        if (slot.Current is { } current && snapshot.Version <= current.Version)
        {
            return false;
        }

        slot.Current = snapshot;
        foreach (var subscriber in slot.Subscribers)
        {
            subscriber.Writer.TryWrite(snapshot);
        }

        return true;
    }

    private sealed class Slot
    {
        public FlagSnapshot? Current { get; set; }

        public HashSet<Channel<FlagSnapshot>> Subscribers { get; } = [];
    }
}
