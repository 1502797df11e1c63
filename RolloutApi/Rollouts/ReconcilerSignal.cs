namespace RolloutApi.Rollouts;

/// <summary>Wakes the reconciler early (after every committed mutation); signals coalesce while it is busy.</summary>
public sealed class ReconcilerSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Signal()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: one wake-up covers every change made before it.
        }
    }

    /// <summary>Returns when signalled or when <paramref name="timeout"/> (on <paramref name="time"/>'s clock) has passed.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var signalled = _signal.WaitAsync(cts.Token);
        var elapsed = Task.Delay(timeout, time, cts.Token);
        await Task.WhenAny(signalled, elapsed);
        await cts.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }

    public void Dispose() => _signal.Dispose();
}
