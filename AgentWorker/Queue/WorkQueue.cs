using System.Diagnostics;
using System.Threading.Channels;
using AgentWorker.Configuration;
using AgentWorker.Processing;
using Microsoft.Extensions.Options;

namespace AgentWorker.Queue;

/// <summary>
/// The bounded background queue: a batch enters whole or not at all, an id is pending at most once, and every item
/// is handed to exactly one worker. See README.md in this folder for the invariants.
/// </summary>
public sealed class WorkQueue
{
    private readonly Channel<QueuedWorkItem> _channel;
    private readonly TimeProvider _timeProvider;

    // Guards writes, completion and the pending index. Readers take items without it: reading only frees room,
    // so a capacity check made under the lock stays true until the lock is released.
    private readonly Lock _gate = new();
    private readonly Dictionary<string, PendingItem> _pending = new(StringComparer.Ordinal);
    private bool _closed;

    public WorkQueue(IOptions<WorkerOptions> options, TimeProvider timeProvider)
    {
        Capacity = options.Value.QueueCapacity;
        _timeProvider = timeProvider;
        _channel = Channel.CreateBounded<QueuedWorkItem>(new BoundedChannelOptions(Capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
        });
    }

    public int Capacity { get; }

    /// <summary>Items waiting for a worker.</summary>
    public int Count => _channel.Reader.Count;

    /// <summary>Items accepted and not finished yet: waiting plus being processed.</summary>
    public int PendingCount
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Enqueues every item or none: a batch that does not fit, or that repeats a pending id, changes nothing.</summary>
    public EnqueueOutcome TryEnqueueAll(IReadOnlyList<WorkItem> items, ActivityContext parent = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        lock (_gate)
        {
            if (_closed)
            {
                return EnqueueOutcome.Closed(_channel.Reader.Count);
            }

            var conflicts = items.Where(item => _pending.ContainsKey(item.Id)).Select(item => item.Id).ToArray();
            if (conflicts.Length > 0)
            {
                return EnqueueOutcome.Conflict(conflicts, _channel.Reader.Count);
            }

            var free = Capacity - _channel.Reader.Count;
            if (items.Count > free)
            {
                return EnqueueOutcome.Full(free, _channel.Reader.Count);
            }

            var acceptedAt = _timeProvider.GetUtcNow();
            foreach (var item in items)
            {
                // Cannot fail: the room was checked above and only this lock's holder writes or completes.
                if (!_channel.Writer.TryWrite(new QueuedWorkItem(item, acceptedAt, parent)))
                {
                    throw new InvalidOperationException("The queue refused an item after its room was checked; the queue invariant is broken.");
                }

                _pending[item.Id] = new PendingItem(acceptedAt);
            }

            return EnqueueOutcome.Accepted(_channel.Reader.Count);
        }
    }

    /// <summary>Waits until an item can be taken; false once the queue is completed and empty.</summary>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken) => _channel.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>Takes the next item for a worker and marks it as processing.</summary>
    public bool TryDequeue(out QueuedWorkItem item)
    {
        if (!_channel.Reader.TryRead(out item!))
        {
            return false;
        }

        lock (_gate)
        {
            if (_pending.TryGetValue(item.Item.Id, out var pending))
            {
                pending.StartedAt = _timeProvider.GetUtcNow();
            }
        }

        return true;
    }

    /// <summary>Forgets a finished item, so that its id can be submitted again.</summary>
    public void MarkFinished(string id)
    {
        lock (_gate)
        {
            _pending.Remove(id);
        }
    }

    /// <summary>The status of a pending item, or null when the id is not pending.</summary>
    public ItemStatus? FindPending(string id)
    {
        lock (_gate)
        {
            return _pending.TryGetValue(id, out var pending)
                ? new ItemStatus(id, pending.StartedAt is null ? ItemStates.Queued : ItemStates.Processing, pending.AcceptedAt, pending.StartedAt, null, null)
                : null;
        }
    }

    /// <summary>Refuses new items from now on; workers still drain what is queued.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _closed = true;
            _channel.Writer.TryComplete();
        }
    }

    /// <summary>Takes every item still waiting (after a drain gave up), so that their ids can be reported.</summary>
    public IReadOnlyList<QueuedWorkItem> TakeRemaining()
    {
        var remaining = new List<QueuedWorkItem>();
        while (_channel.Reader.TryRead(out var item))
        {
            remaining.Add(item);
            MarkFinished(item.Item.Id);
        }

        return remaining;
    }

    private sealed class PendingItem(DateTimeOffset acceptedAt)
    {
        public DateTimeOffset AcceptedAt { get; } = acceptedAt;

        public DateTimeOffset? StartedAt { get; set; }
    }
}

/// <summary>An accepted item on its way to a worker, with the trace context of the request that brought it.</summary>
public sealed record QueuedWorkItem(WorkItem Item, DateTimeOffset AcceptedAt, ActivityContext Parent);

/// <summary>Why a batch was or was not enqueued.</summary>
public enum EnqueueStatus
{
    Accepted,
    Full,
    Closed,
    Conflict,
}

/// <summary>The result of <see cref="WorkQueue.TryEnqueueAll"/>: accepted, or why nothing was enqueued.</summary>
public sealed record EnqueueOutcome(EnqueueStatus Status, int QueueSize, int FreeSlots, IReadOnlyList<string> ConflictingIds)
{
    public static EnqueueOutcome Accepted(int queueSize) => new(EnqueueStatus.Accepted, queueSize, 0, []);

    public static EnqueueOutcome Full(int freeSlots, int queueSize) => new(EnqueueStatus.Full, queueSize, freeSlots, []);

    public static EnqueueOutcome Closed(int queueSize) => new(EnqueueStatus.Closed, queueSize, 0, []);

    public static EnqueueOutcome Conflict(IReadOnlyList<string> ids, int queueSize) => new(EnqueueStatus.Conflict, queueSize, 0, ids);
}
