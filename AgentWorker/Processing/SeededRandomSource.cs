namespace AgentWorker.Processing;

/// <summary>A thread-safe <see cref="Random"/>: seeded, the same sequence every run; unseeded, a different one.</summary>
public sealed class SeededRandomSource(int? seed) : IRandomSource
{
    // Random with a seed is not thread-safe and workers draw concurrently.
    private readonly Lock _lock = new();
    private readonly Random _random = seed is { } value ? new Random(value) : new Random();

    public double NextDouble()
    {
        lock (_lock)
        {
            return _random.NextDouble();
        }
    }
}
