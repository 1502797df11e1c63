namespace Gateway.Stream;

/// <summary>
/// Exponential backoff with jitter for reconnecting to the routing stream: the delay doubles per failed attempt up
/// to a ceiling, and each delay is drawn from its upper half so that many gateways do not reconnect in lockstep.
/// </summary>
public sealed class ReconnectBackoff(TimeSpan minDelay, TimeSpan maxDelay, Random random)
{
    private int _attempt;

    /// <summary>The delay before the next attempt; advances the attempt count.</summary>
    public TimeSpan Next()
    {
        var exponent = Math.Min(_attempt, 30);
        _attempt++;
        var ceiling = Math.Min(maxDelay.Ticks, minDelay.Ticks * Math.Pow(2, exponent));
        var jittered = (ceiling / 2) + (random.NextDouble() * ceiling / 2);
        return TimeSpan.FromTicks((long)jittered);
    }

    /// <summary>Starts again from the smallest delay, after a connection that delivered.</summary>
    public void Reset() => _attempt = 0;
}
