namespace RolloutApi.Rollouts.Infrastructure;

/// <summary>
/// Serialises the sequences that call the track driver and then commit (reconciler passes, undo), so that one never
/// re-applies the other's half-finished state. Abort and the other commands do not take it: they only write the database.
/// </summary>
public sealed class DriveGate : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Waits for the gate; dispose the result to release it.</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        return new Release(_gate);
    }

    public void Dispose() => _gate.Dispose();

    private sealed class Release(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
