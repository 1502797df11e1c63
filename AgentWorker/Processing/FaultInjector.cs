using AgentWorker.Configuration;
using Microsoft.Extensions.Options;

namespace AgentWorker.Processing;

/// <summary>
/// Simulates a bad release: adds latency and fails a share of items. Read per item from <see cref="IOptionsMonitor{T}"/>,
/// so a reloaded configuration changes the faults without a restart.
/// </summary>
public sealed class FaultInjector(IOptionsMonitor<WorkerOptions> options, IRandomSource random, TimeProvider timeProvider)
{
    public async Task ApplyAsync(CancellationToken cancellationToken)
    {
        var faults = options.CurrentValue.Faults;
        if (faults.Latency > TimeSpan.Zero)
        {
            await Task.Delay(faults.Latency, timeProvider, cancellationToken);
        }

        // No draw at all when off, so that enabling faults later starts the seeded sequence from its beginning.
        if (faults.FailureRate > 0 && random.NextDouble() < faults.FailureRate)
        {
            throw new ProcessingException(
                ProcessingFailure.InjectedFault,
                $"Injected fault ({WorkerOptions.SectionName}:Faults:FailureRate = {faults.FailureRate:0.###}).");
        }
    }
}
