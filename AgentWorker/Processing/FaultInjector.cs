using System.Globalization;
using AgentWorker.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement;

namespace AgentWorker.Processing;

/// <summary>
/// Simulates a bad release: adds latency and fails a share of items. Read per item from <see cref="IOptionsMonitor{T}"/>,
/// so a reloaded configuration changes the faults without a restart, and from the <see cref="AgentFlags.FaultInjection"/>
/// flag, so a revision's flag set can make that revision bad (a canary that fails 20 % for a rollback drill). The larger of
/// the two applies.
/// </summary>
public sealed class FaultInjector(
    IOptionsMonitor<WorkerOptions> options, IRandomSource random, TimeProvider timeProvider, IVariantFeatureManager features)
{
    public async Task ApplyAsync(CancellationToken cancellationToken)
    {
        var faults = options.CurrentValue.Faults;
        var (flagRate, flagLatency) = await FromFlagAsync(cancellationToken);
        var latency = faults.Latency > flagLatency ? faults.Latency : flagLatency;
        var failureRate = Math.Max(faults.FailureRate, flagRate);
        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, timeProvider, cancellationToken);
        }

        // No draw at all when off, so that enabling faults later starts the seeded sequence from its beginning.
        if (failureRate > 0 && random.NextDouble() < failureRate)
        {
            throw new ProcessingException(
                ProcessingFailure.InjectedFault,
                failureRate == faults.FailureRate
                    ? $"Injected fault ({WorkerOptions.SectionName}:Faults:FailureRate = {failureRate:0.###})."
                    : $"Injected fault (flag {AgentFlags.FaultInjection}: {AgentFlags.FailureRateSetting} = {failureRate:0.###}).");
        }
    }

    // A flag that cannot be evaluated injects nothing: fault injection is a drill, never a reason to fail for real.
    private async Task<(double FailureRate, TimeSpan Latency)> FromFlagAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!await features.IsEnabledAsync(AgentFlags.FaultInjection, cancellationToken))
            {
                return (0, TimeSpan.Zero);
            }

            var configuration = (await features.GetVariantAsync(AgentFlags.FaultInjection, cancellationToken))?.Configuration;
            var rate = double.TryParse(configuration?[AgentFlags.FailureRateSetting], NumberStyles.Float, CultureInfo.InvariantCulture, out var r)
                ? Math.Clamp(r, 0, 1) : 0;
            var latencyMs = double.TryParse(configuration?[AgentFlags.LatencyMsSetting], NumberStyles.Float, CultureInfo.InvariantCulture, out var l)
                ? Math.Clamp(l, 0, WorkerOptionsValidator.MaxLatency.TotalMilliseconds) : 0;
            return (rate, TimeSpan.FromMilliseconds(latencyMs));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return (0, TimeSpan.Zero);
        }
    }
}
