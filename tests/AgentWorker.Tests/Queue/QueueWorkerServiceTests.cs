using System.Collections.Concurrent;
using AgentWorker.Configuration;
using AgentWorker.Processing;
using AgentWorker.Queue;
using AgentWorker.Tests.Support;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace AgentWorker.Tests.Queue;

public sealed class QueueWorkerServiceTests
{
    [Fact]
    public async Task Workers_ProcessEveryAcceptedItemExactlyOnce()
    {
        var processor = new CountingProcessor();
        using var pool = new Pool(processor, workers: 4, capacity: 64);
        await pool.Service.StartAsync(CancellationToken.None);

        var accepted = new ConcurrentBag<string>();
        var producers = Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
        {
            for (var b = 0; b < 50; b++)
            {
                var batch = Items.Many($"p{p}-b{b}", 5);
                // A full queue refuses the batch whole; retry it until it fits, as a client honouring 429 would.
                while (pool.Queue.TryEnqueueAll(batch).Status != EnqueueStatus.Accepted)
                {
                    await Task.Yield();
                }

                foreach (var item in batch)
                {
                    accepted.Add(item.Id);
                }
            }
        })).ToArray();
        await Task.WhenAll(producers).WaitAsync(Deadline.Default);
        await Deadline.UntilAsync(() => pool.Queue.PendingCount == 0, "every accepted item finished");
        await pool.Service.StopAsync(CancellationToken.None).WaitAsync(Deadline.Default);

        Assert.Equal(1000, accepted.Count);
        Assert.Equal(accepted.Order(StringComparer.Ordinal), processor.Calls.Keys.Order(StringComparer.Ordinal));
        Assert.All(processor.Calls.Values, count => Assert.Equal(1, count));
        Assert.All(accepted, id => Assert.Equal(ItemStates.Succeeded, pool.Statuses.Find(id)?.State));
    }

    [Fact]
    public async Task Readiness_IsHealthyOnlyWhileAllWorkersRun()
    {
        using var pool = new Pool(new CountingProcessor(), workers: 3, capacity: 10);
        var check = new WorkersReadyHealthCheck(pool.State);

        Assert.Equal(HealthStatus.Unhealthy, (await Check(check)).Status);
        await pool.Service.StartAsync(CancellationToken.None);
        await Deadline.UntilAsync(() => pool.State.Running == 3, "all three workers run");
        Assert.Equal(HealthStatus.Healthy, (await Check(check)).Status);

        await pool.Service.StopAsync(CancellationToken.None).WaitAsync(Deadline.Default);
        Assert.Equal(HealthStatus.Unhealthy, (await Check(check)).Status);
        Assert.Equal(0, pool.State.Running);
    }

    [Fact]
    public async Task Stop_DrainsTheQueue_BeforeItReturns()
    {
        var processor = new GatedProcessor();
        using var pool = new Pool(processor, workers: 2, capacity: 20, drainTimeout: Deadline.Default);
        await pool.Service.StartAsync(CancellationToken.None);
        Assert.Equal(EnqueueStatus.Accepted, pool.Queue.TryEnqueueAll(Items.Many("a", 10)).Status);
        await processor.WaitForEntryAsync();

        var stopping = pool.Service.StopAsync(CancellationToken.None);
        Assert.Equal(EnqueueStatus.Closed, pool.Queue.TryEnqueueAll(Items.Many("late", 1)).Status);
        Assert.False(stopping.IsCompleted);
        processor.Open();
        await stopping.WaitAsync(Deadline.Default);

        Assert.Equal(10, processor.Finished);
        Assert.All(processor.Calls.Values, count => Assert.Equal(1, count));
        Assert.Contains(pool.Logs.GetSnapshot(), record => record.Message.Contains("every accepted item finished", StringComparison.Ordinal));
        Assert.DoesNotContain(pool.Logs.GetSnapshot(), record => record.Level == LogLevel.Warning);
    }

    [Fact]
    public async Task Stop_WhenTheDrainTimesOut_CancelsWhatIsLeft_AndLogsTheUnfinishedIds()
    {
        var processor = new GatedProcessor();
        using var pool = new Pool(processor, workers: 1, capacity: 10, drainTimeout: TimeSpan.FromMilliseconds(100));
        await pool.Service.StartAsync(CancellationToken.None);
        pool.Queue.TryEnqueueAll(Items.Many("stuck", 3));
        await processor.WaitForEntryAsync();

        // The gate never opens: the drain can only end by its timeout.
        await pool.Service.StopAsync(CancellationToken.None).WaitAsync(Deadline.Default);

        Assert.Equal(["stuck-0"], processor.Cancelled);
        var warning = Assert.Single(pool.Logs.GetSnapshot(), record => record.Level == LogLevel.Warning);
        Assert.Contains("3 items did not finish", warning.Message, StringComparison.Ordinal);
        Assert.Equal(["stuck-0", "stuck-1", "stuck-2"], warning.GetStructuredStateValue("ItemIds")!.Split(',').Order(StringComparer.Ordinal));
        Assert.Equal(0, pool.Queue.PendingCount);
    }

    [Fact]
    public async Task FailedItem_IsRecordedAsFailed_AndNotRetried()
    {
        var processor = new CountingProcessor(fail: id => id == "bad");
        using var pool = new Pool(processor, workers: 1, capacity: 10);
        await pool.Service.StartAsync(CancellationToken.None);

        pool.Queue.TryEnqueueAll([Items.Item("bad"), Items.Item("good")]);
        await Deadline.UntilAsync(() => pool.Statuses.Find("good") is not null && pool.Statuses.Find("bad") is not null, "both items finished");
        await pool.Service.StopAsync(CancellationToken.None).WaitAsync(Deadline.Default);

        var bad = pool.Statuses.Find("bad")!;
        Assert.Equal(ItemStates.Failed, bad.State);
        Assert.Equal("boom", bad.Error);
        Assert.Equal(ItemStates.Succeeded, pool.Statuses.Find("good")?.State);
        Assert.Equal(1, processor.Calls["bad"]);
    }

    [Fact]
    public void StatusStore_KeepsOnlyTheNewestFinishedItems()
    {
        var store = new ItemStatusStore(Options.Create(new WorkerOptions { StatusRetention = 2 }));

        foreach (var id in new[] { "a", "b", "c" })
        {
            store.Record(new ItemStatus(id, ItemStates.Succeeded, DateTimeOffset.UnixEpoch, null, null, null));
        }

        Assert.Null(store.Find("a"));
        Assert.NotNull(store.Find("b"));
        Assert.NotNull(store.Find("c"));
    }

    private static Task<HealthCheckResult> Check(WorkersReadyHealthCheck check) =>
        check.CheckHealthAsync(new HealthCheckContext()).WaitAsync(Deadline.Default);

    /// <summary>A worker pool built by hand around a test processor, with its logs collected.</summary>
    private sealed class Pool : IDisposable
    {
        public Pool(IWorkItemProcessor processor, int workers, int capacity, TimeSpan? drainTimeout = null)
        {
            var options = Options.Create(new WorkerOptions
            {
                Workers = workers,
                QueueCapacity = capacity,
                MaxBatchSize = capacity,
                DrainTimeout = drainTimeout ?? TimeSpan.FromSeconds(10),
            });
            Queue = new WorkQueue(options, TimeProvider.System);
            Statuses = new ItemStatusStore(options);
            State = new WorkerPoolState(options);
            var logger = new FakeLogger<QueueWorkerService>();
            Logs = logger.Collector;
            Service = new QueueWorkerService(Queue, processor, Statuses, State, options, TimeProvider.System, logger);
        }

        public WorkQueue Queue { get; }

        public ItemStatusStore Statuses { get; }

        public WorkerPoolState State { get; }

        public FakeLogCollector Logs { get; }

        public QueueWorkerService Service { get; }

        public void Dispose() => Service.Dispose();
    }

    private sealed class CountingProcessor(Func<string, bool>? fail = null) : IWorkItemProcessor
    {
        public ConcurrentDictionary<string, int> Calls { get; } = new(StringComparer.Ordinal);

        public Task<WorkResult> ProcessAsync(WorkItem item, CancellationToken cancellationToken)
        {
            Calls.AddOrUpdate(item.Id, 1, (_, count) => count + 1);
            return fail?.Invoke(item.Id) == true
                ? Task.FromException<WorkResult>(new ProcessingException(ProcessingFailure.InjectedFault, "boom"))
                : Task.FromResult(StubResults.For(item));
        }
    }
}
