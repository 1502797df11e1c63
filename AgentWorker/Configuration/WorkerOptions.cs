using AgentAspire.Contracts;

namespace AgentWorker.Configuration;

/// <summary>How the worker runs: queue, workers, limits, upstream and fault injection. Bound from the <c>Worker</c> section.</summary>
public sealed class WorkerOptions
{
    public const string SectionName = ConfigKeys.Worker.Section;

    /// <summary>Background workers that take items off the queue.</summary>
    public int Workers { get; set; } = 4;

    /// <summary>Items the queue holds while they wait for a worker (items being processed do not count).</summary>
    public int QueueCapacity { get; set; } = 1000;

    /// <summary>Most items one batch request may carry; never more than <see cref="QueueCapacity"/>.</summary>
    public int MaxBatchSize { get; set; } = 100;

    /// <summary>Largest request body the items endpoints read, in bytes.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>An absolute http(s) URL each item is posted to while it is processed; unset, no upstream call is made.</summary>
    public Uri? UpstreamUrl { get; set; }

    /// <summary>How long one upstream call may take before the item fails (the call is not retried).</summary>
    public TimeSpan UpstreamTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a graceful shutdown waits for the queue to drain before it gives up on what is left.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>What a 429 or 503 answer asks the client to wait before it retries.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Finished items whose status <c>GET /api/items/{id}</c> still reports; older ones are forgotten.</summary>
    public int StatusRetention { get; set; } = 1000;

    /// <summary>Simulated failures for demos and tests (off by default).</summary>
    public FaultOptions Faults { get; set; } = new();
}

/// <summary>Fault injection: a share of items fails and every item takes longer, so that a bad canary can be simulated.</summary>
public sealed class FaultOptions
{
    /// <summary>Share of items that fail on purpose, 0 to 1.</summary>
    public double FailureRate { get; set; }

    /// <summary>Delay added to every item before it is processed.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Seed of the random source that decides which items fail; unset, every run differs.</summary>
    public int? Seed { get; set; }
}
