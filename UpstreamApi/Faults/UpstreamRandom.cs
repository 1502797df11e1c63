namespace UpstreamApi.Faults;

/// <summary>The simulator's randomness (jitter, which calls fail), injected so that a seed makes a run repeatable.</summary>
public interface IUpstreamRandom
{
    /// <summary>A number in [0, 1).</summary>
    double NextDouble();
}

internal sealed class UpstreamRandom(int? seed) : IUpstreamRandom
{
    private readonly Random _random = seed is { } s ? new Random(s) : new Random();
    private readonly Lock _lock = new();

    public double NextDouble()
    {
        // System.Random is not thread-safe; calls arrive concurrently.
        lock (_lock)
        {
            return _random.NextDouble();
        }
    }
}
