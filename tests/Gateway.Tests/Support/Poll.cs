namespace Gateway.Tests.Support;

/// <summary>Waits for a condition by polling on a short period with a deadline: tests never sleep to synchronise.</summary>
public static class Poll
{
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(10);

    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? deadline = null)
    {
        var limit = deadline ?? DefaultDeadline;
        using var cts = new CancellationTokenSource(limit);
        using var timer = new PeriodicTimer(Period);
        T last = default!;
        try
        {
            do
            {
                last = await probe().WaitAsync(cts.Token);
                if (done(last))
                {
                    return last;
                }
            }
            while (await timer.WaitForNextTickAsync(cts.Token));
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
        }

        throw new TimeoutException($"Timed out after {limit} waiting for {what}; last value: {last}");
    }
}
