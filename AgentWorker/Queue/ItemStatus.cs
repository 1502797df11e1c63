using System.Collections.Concurrent;
using AgentWorker.Configuration;
using Microsoft.Extensions.Options;

namespace AgentWorker.Queue;

/// <summary>Where a queued item is: <c>queued</c>, <c>processing</c>, <c>succeeded</c> or <c>failed</c>.</summary>
public sealed record ItemStatus(
    string Id,
    string State,
    DateTimeOffset AcceptedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? Error);

/// <summary>The states an <see cref="ItemStatus"/> reports.</summary>
public static class ItemStates
{
    public const string Queued = "queued";
    public const string Processing = "processing";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}

/// <summary>
/// Statuses of recently finished items, at most <see cref="WorkerOptions.StatusRetention"/> of them: memory stays
/// bounded however many items pass through. Pending items are answered by <see cref="WorkQueue"/> itself.
/// </summary>
public sealed class ItemStatusStore(IOptions<WorkerOptions> options)
{
    private readonly int _retention = options.Value.StatusRetention;
    private readonly ConcurrentDictionary<string, ItemStatus> _finished = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<ItemStatus> _order = new();

    public void Record(ItemStatus status)
    {
        if (_retention == 0)
        {
            return;
        }

        _finished[status.Id] = status;
        _order.Enqueue(status);
        while (_order.Count > _retention && _order.TryDequeue(out var oldest))
        {
            // Removes only that very status: an id finished again later keeps its newer entry.
            _finished.TryRemove(KeyValuePair.Create(oldest.Id, oldest));
        }
    }

    public ItemStatus? Find(string id) => _finished.GetValueOrDefault(id);
}
