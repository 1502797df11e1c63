namespace AgentWorker.Processing;

/// <summary>Randomness behind fault injection, injected so that tests and demos can fix the sequence.</summary>
public interface IRandomSource
{
    /// <summary>A number in [0, 1).</summary>
    double NextDouble();
}
