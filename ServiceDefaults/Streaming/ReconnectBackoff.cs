namespace ServiceDefaults.Streaming;

/// <summary>
/// Exponential reconnect delays with "equal jitter": each delay is half fixed, half random, between half the step and
/// the step. A fleet of agents that lost RolloutApi together spreads its reconnects out, yet none retries in a tight loop.
/// </summary>
public sealed class ReconnectBackoff(TimeSpan initial, TimeSpan max, Random random)
{
    private int _failures;

    public TimeSpan Next()
    {
        var step = Math.Min(max.Ticks, initial.Ticks * Math.Pow(2, Math.Min(_failures, 32)));
        _failures++;
        var half = step / 2;
        return TimeSpan.FromTicks((long)(half + (random.NextDouble() * half)));
    }

    /// <summary>Starts over from <c>initial</c> after a connection that worked.</summary>
    public void Reset() => _failures = 0;
}
