using AgentWorker.Configuration;
using AgentWorker.Processing;
using AgentWorker.Queue;
using AgentWorker.Tests.Support;
using Microsoft.Extensions.Options;

namespace AgentWorker.Tests.Queue;

public sealed class WorkQueueTests
{
    [Fact]
    public void TryEnqueueAll_FillsToCapacity_ThenRefusesAWholeBatchThatDoesNotFit()
    {
        var queue = NewQueue(capacity: 3);

        Assert.Equal(EnqueueStatus.Accepted, queue.TryEnqueueAll(Items.Many("a", 2)).Status);
        var refused = queue.TryEnqueueAll(Items.Many("b", 2));
        var fits = queue.TryEnqueueAll(Items.Many("c", 1));

        Assert.Equal(EnqueueStatus.Full, refused.Status);
        Assert.Equal(1, refused.FreeSlots);
        Assert.Null(queue.FindPending("b-0"));
        Assert.Equal(EnqueueStatus.Accepted, fits.Status);
        Assert.Equal(3, queue.Count);
        Assert.Equal(EnqueueStatus.Full, queue.TryEnqueueAll(Items.Many("d", 1)).Status);
    }

    [Fact]
    public void TryEnqueueAll_RefusesABatchWithAPendingId_AndQueuesNoneOfIt()
    {
        var queue = NewQueue(capacity: 10);
        queue.TryEnqueueAll([Items.Item("dup")]);

        var outcome = queue.TryEnqueueAll([Items.Item("new"), Items.Item("dup")]);

        Assert.Equal(EnqueueStatus.Conflict, outcome.Status);
        Assert.Equal(["dup"], outcome.ConflictingIds);
        Assert.Null(queue.FindPending("new"));
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public void PendingItems_MoveFromQueuedToProcessingToForgotten()
    {
        var queue = NewQueue(capacity: 10);
        queue.TryEnqueueAll([Items.Item("a")]);

        Assert.Equal(ItemStates.Queued, queue.FindPending("a")?.State);
        Assert.True(queue.TryDequeue(out var taken));
        Assert.Equal("a", taken.Item.Id);
        Assert.Equal(ItemStates.Processing, queue.FindPending("a")?.State);
        Assert.Equal(0, queue.Count);
        Assert.Equal(1, queue.PendingCount);

        queue.MarkFinished("a");
        Assert.Null(queue.FindPending("a"));
        // A finished id may come again.
        Assert.Equal(EnqueueStatus.Accepted, queue.TryEnqueueAll([Items.Item("a")]).Status);
    }

    [Fact]
    public void Complete_RefusesNewBatches_ButKeepsQueuedItemsForTheWorkers()
    {
        var queue = NewQueue(capacity: 10);
        queue.TryEnqueueAll(Items.Many("a", 2));

        queue.Complete();

        Assert.Equal(EnqueueStatus.Closed, queue.TryEnqueueAll(Items.Many("b", 1)).Status);
        Assert.True(queue.TryDequeue(out _));
        Assert.Equal(["a-1"], queue.TakeRemaining().Select(item => item.Item.Id));
        // Only the item a worker holds is still pending.
        Assert.Equal(ItemStates.Processing, queue.FindPending("a-0")?.State);
        Assert.Equal(1, queue.PendingCount);
    }

    [Fact]
    public async Task TryEnqueueAll_UnderConcurrency_NeverExceedsCapacity_AndIsAllOrNothing()
    {
        const int capacity = 50;
        var queue = NewQueue(capacity);
        var batches = Enumerable.Range(0, 64).Select(b => Items.Many($"b{b}", 1 + (b % 7))).ToArray();
        var outcomes = new EnqueueOutcome[batches.Length];
        using var start = new ManualResetEventSlim();

        var writers = Enumerable.Range(0, batches.Length).Select(b => Task.Run(() =>
        {
            start.Wait(Deadline.Default);
            outcomes[b] = queue.TryEnqueueAll(batches[b]);
        })).ToArray();
        start.Set();
        await Task.WhenAll(writers).WaitAsync(Deadline.Default);

        var accepted = Enumerable.Range(0, batches.Length).Where(b => outcomes[b].Status == EnqueueStatus.Accepted).ToArray();
        Assert.Equal(accepted.Sum(b => batches[b].Length), queue.Count);
        Assert.InRange(queue.Count, capacity - 6, capacity);
        for (var b = 0; b < batches.Length; b++)
        {
            var present = batches[b].Count(item => queue.FindPending(item.Id) is not null);
            Assert.Equal(outcomes[b].Status == EnqueueStatus.Accepted ? batches[b].Length : 0, present);
        }
    }

    private static WorkQueue NewQueue(int capacity) =>
        new(Options.Create(new WorkerOptions { QueueCapacity = capacity, MaxBatchSize = capacity }), TimeProvider.System);
}
