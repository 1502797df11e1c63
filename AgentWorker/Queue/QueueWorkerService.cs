using System.Collections.Concurrent;
using System.Diagnostics;
using AgentWorker.Configuration;
using AgentWorker.Processing;
using AgentWorker.Telemetry;
using Microsoft.Extensions.Options;

namespace AgentWorker.Queue;

/// <summary>
/// Runs the background workers that empty <see cref="WorkQueue"/>. On shutdown it stops intake, lets the workers
/// drain the queue for up to <see cref="WorkerOptions.DrainTimeout"/>, then cancels what is left and logs those ids.
/// </summary>
internal sealed partial class QueueWorkerService(
    WorkQueue queue,
    IWorkItemProcessor processor,
    ItemStatusStore statuses,
    WorkerPoolState state,
    IOptions<WorkerOptions> options,
    TimeProvider timeProvider,
    ILogger<QueueWorkerService> logger) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _abort = new();
    private readonly ConcurrentQueue<string> _abandoned = new();
    private Task[] _workers = [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var count = options.Value.Workers;
        _workers = new Task[count];
        for (var i = 0; i < count; i++)
        {
            var worker = i;
            _workers[i] = Task.Run(() => RunWorkerAsync(worker, _abort.Token), CancellationToken.None);
        }

        Log.WorkersStarting(logger, count, queue.Capacity);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        state.BeginDrain();
        queue.Complete();
        var drainTimeout = options.Value.DrainTimeout;
        Log.Draining(logger, queue.Count, drainTimeout);

        var workers = Task.WhenAll(_workers);
        using var drainDeadline = new CancellationTokenSource(drainTimeout, timeProvider);
        using var drain = CancellationTokenSource.CreateLinkedTokenSource(drainDeadline.Token, cancellationToken);
        try
        {
            await workers.WaitAsync(drain.Token);
            Log.Drained(logger);
            return;
        }
        catch (OperationCanceledException) when (drain.IsCancellationRequested)
        {
            // The drain ran out of time: cancel the items in flight and report everything that did not finish.
        }

        await _abort.CancelAsync();
        try
        {
            await workers.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Log.WorkersDidNotStop(logger);
        }

        var unfinished = _abandoned.Concat(queue.TakeRemaining().Select(item => item.Item.Id)).ToArray();
        if (unfinished.Length == 0)
        {
            Log.Drained(logger);
        }
        else
        {
            Log.DrainTimedOut(logger, drainTimeout, unfinished.Length, string.Join(",", unfinished));
        }
    }

    public void Dispose() => _abort.Dispose();

    private async Task RunWorkerAsync(int worker, CancellationToken abort)
    {
        state.WorkerStarted();
        try
        {
            while (await queue.WaitToReadAsync(abort))
            {
                while (queue.TryDequeue(out var item))
                {
                    await ProcessAsync(item, abort);
                }
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            // Aborted at the end of a drain that ran out of time.
        }
        #pragma warning disable CA1031 // a crashed worker loop is logged and the pool state updated; throwing would stop the host
        catch (Exception ex)
        #pragma warning restore CA1031
        {
            Log.WorkerCrashed(logger, ex, worker);
        }
        finally
        {
            state.WorkerStopped();
        }
    }

    private async Task ProcessAsync(QueuedWorkItem queued, CancellationToken abort)
    {
        var id = queued.Item.Id;
        var startedAt = timeProvider.GetUtcNow();
        using var activity = AgentTelemetry.ActivitySource.StartActivity("agent.queue.process", ActivityKind.Consumer, queued.Parent);
        activity?.SetTag("agent.item.id", id);
        try
        {
            await processor.ProcessAsync(queued.Item, abort);
            statuses.Record(new ItemStatus(id, ItemStates.Succeeded, queued.AcceptedAt, startedAt, timeProvider.GetUtcNow(), null));
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            _abandoned.Enqueue(id);
            throw;
        }
        #pragma warning disable CA1031 // any failure of one item fails that item (recorded), never the worker
        catch (Exception ex)
        #pragma warning restore CA1031
        {
            // The processor already counted and logged the failure; the item is done, never retried.
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            statuses.Record(new ItemStatus(id, ItemStates.Failed, queued.AcceptedAt, startedAt, timeProvider.GetUtcNow(), ex.Message));
        }
        finally
        {
            // Recorded before it is forgotten here, so that a status query always finds the item somewhere.
            queue.MarkFinished(id);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Starting {Workers} workers on a queue of {Capacity} items.")]
        public static partial void WorkersStarting(ILogger logger, int workers, int capacity);

        [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Draining {Queued} queued items (timeout {DrainTimeout}).")]
        public static partial void Draining(ILogger logger, int queued, TimeSpan drainTimeout);

        [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "The queue drained; every accepted item finished.")]
        public static partial void Drained(ILogger logger);

        [LoggerMessage(EventId = 1203, Level = LogLevel.Warning, Message = "The drain timed out after {DrainTimeout}; {Count} items did not finish: {ItemIds}.")]
        public static partial void DrainTimedOut(ILogger logger, TimeSpan drainTimeout, int count, string itemIds);

        [LoggerMessage(EventId = 1204, Level = LogLevel.Error, Message = "Worker {Worker} stopped unexpectedly.")]
        public static partial void WorkerCrashed(ILogger logger, Exception exception, int worker);

        [LoggerMessage(EventId = 1205, Level = LogLevel.Warning, Message = "The workers did not stop before the host's shutdown timeout.")]
        public static partial void WorkersDidNotStop(ILogger logger);
    }
}
