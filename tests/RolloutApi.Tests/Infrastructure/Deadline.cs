namespace RolloutApi.Tests.Infrastructure;

/// <summary>Every await in these tests has a deadline; these are the budgets.</summary>
public static class Deadline
{
    public static readonly TimeSpan Request = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan Stream = TimeSpan.FromSeconds(10);

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    public static async Task<T> PollAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan timeout, string what)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            var value = await probe().WaitAsync(timeout);
            if (condition(value))
            {
                return value;
            }

            if (cts.IsCancellationRequested)
            {
                throw new TimeoutException($"Timed out after {timeout} waiting for {what}; last value: {value}");
            }

            // A short pause between probes; the condition, not the pause, decides when to go on.
            await Task.Delay(TimeSpan.FromMilliseconds(20), CancellationToken.None);
        }
    }
}
