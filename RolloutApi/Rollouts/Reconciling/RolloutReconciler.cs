using Microsoft.Extensions.Options;
using RolloutApi.Hosting;

namespace RolloutApi.Rollouts.Reconciling;

/// <summary>
/// Drives rollouts forward from persisted state: a pass on start (which resumes whatever a crash interrupted), then one
/// whenever a pause is due, a mutation signals, or <see cref="RolloutApiOptions.ReconcileInterval"/> passes.
/// </summary>
internal sealed partial class RolloutReconciler(
    ReconcilePass pass, ReconcilerSignal signal, TimeProvider time, IOptions<RolloutApiOptions> options, ILogger<RolloutReconciler> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let the host finish starting before the first pass.
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = options.Value.ReconcileInterval;
            try
            {
                if (await pass.ReconcileAsync(stoppingToken) is { } due)
                {
                    var untilDue = due - time.GetUtcNow();
                    wait = untilDue < TimeSpan.Zero ? TimeSpan.Zero : untilDue < wait ? untilDue : wait;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            #pragma warning disable CA1031 // one failed pass is logged and retried next interval; a background service that threw would stop its host
            catch (Exception ex)
            #pragma warning restore CA1031
            {
                // E.g. the database is locked by another process for longer than busy_timeout: wait an interval, try again.
                Log.PassFailed(logger, ex);
            }

            try
            {
                await signal.WaitAsync(wait, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3012, Level = LogLevel.Error, Message = "Reconciler pass failed; trying again")]
        public static partial void PassFailed(ILogger logger, Exception exception);
    }
}
