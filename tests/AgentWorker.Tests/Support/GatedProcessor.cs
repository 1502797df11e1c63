using System.Collections.Concurrent;
using AgentWorker.Processing;

namespace AgentWorker.Tests.Support;

/// <summary>
/// Wraps a processor behind a gate the test opens, and counts how often each id was processed: workers can be held
/// busy deterministically, without sleeps.
/// </summary>
internal sealed class GatedProcessor(IWorkItemProcessor? inner = null) : IWorkItemProcessor
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _entered = new(0);
    private int _finished;

    public ConcurrentDictionary<string, int> Calls { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<string> Cancelled { get; } = new();

    public int Finished => Volatile.Read(ref _finished);

    public void Open() => _gate.TrySetResult();

    /// <summary>Waits until a worker has entered the processor (and is now held at the gate).</summary>
    public Task WaitForEntryAsync() => _entered.WaitAsync(Deadline.Default);

    public async Task<WorkResult> ProcessAsync(WorkItem item, CancellationToken cancellationToken)
    {
        Calls.AddOrUpdate(item.Id, 1, (_, count) => count + 1);
        _entered.Release();
        try
        {
            await _gate.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Cancelled.Enqueue(item.Id);
            throw;
        }

        try
        {
            return inner is null ? StubResults.For(item) : await inner.ProcessAsync(item, cancellationToken);
        }
        finally
        {
            Interlocked.Increment(ref _finished);
        }
    }
}

/// <summary>Minimal results for tests that only care that an item went through.</summary>
internal static class StubResults
{
    public static WorkResult For(WorkItem item) => new(
        item.Id,
        item.Kind,
        item.Payload,
        TextAnalyzer.Analyze(item.Payload.Text),
        AgentBehaviours.Basic,
        null,
        null,
        new ServedBy("agent-worker", "stable", "0.0.0"),
        DateTimeOffset.UnixEpoch);
}
