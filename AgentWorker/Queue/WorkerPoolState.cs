using AgentWorker.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AgentWorker.Queue;

/// <summary>How many background workers run right now, and whether the pool is draining for shutdown.</summary>
public sealed class WorkerPoolState(IOptions<WorkerOptions> options)
{
    private int _running;
    private volatile bool _draining;

    public int Configured { get; } = options.Value.Workers;

    public int Running => Volatile.Read(ref _running);

    public bool IsDraining => _draining;

    /// <summary>Ready: every configured worker runs and no shutdown has begun.</summary>
    public bool IsReady => !_draining && Running == Configured;

    internal void WorkerStarted() => Interlocked.Increment(ref _running);

    internal void WorkerStopped() => Interlocked.Decrement(ref _running);

    internal void BeginDrain() => _draining = true;
}

/// <summary>Readiness: healthy only while all background workers run, so no traffic arrives before they do.</summary>
internal sealed class WorkersReadyHealthCheck(WorkerPoolState state) : IHealthCheck
{
    public const string Name = "workers";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var result = state switch
        {
            { IsDraining: true } => HealthCheckResult.Unhealthy("The workers are draining the queue for shutdown."),
            { IsReady: true } => HealthCheckResult.Healthy($"{state.Running} workers running."),
            _ => HealthCheckResult.Unhealthy($"{state.Running} of {state.Configured} workers running."),
        };
        return Task.FromResult(result);
    }
}
