using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace ServiceDefaults.Telemetry;

/// <summary>
/// Runs the last OTLP export of traces, metrics and logs in parallel, within one deadline, once the host has stopped
/// (after every hosted service, so the requests drained during the stop are in it).
/// </summary>
/// <remarks>
/// Left to the container, the three providers are disposed one after another and each waits out the exporter's
/// timeout when the collector accepts but no longer answers, which is what the local dashboard does while the same
/// Ctrl-C stops it: three times the timeout per service, the largest part of a 6-second local stop. In Development the
/// collector is that dashboard, so the deadline is short (<see cref="DevelopmentDeadline"/>); elsewhere it is the
/// exporter's own timeout, once for all three signals instead of once each.
/// </remarks>
internal sealed class FinalTelemetryExport(IServiceProvider services, IHostApplicationLifetime lifetime, TimeSpan deadline)
    : IHostedService
{
    /// <summary>The final export's deadline locally, where the collector (the dashboard) is stopping at the same moment.</summary>
    public static readonly TimeSpan DevelopmentDeadline = TimeSpan.FromMilliseconds(250);

    private CancellationTokenRegistration _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = lifetime.ApplicationStopped.Register(Export);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Shuts the providers down together; a provider already shut down is not exported twice at disposal.</summary>
    internal void Export()
    {
        _registration.Dispose();
        var milliseconds = (int)deadline.TotalMilliseconds;
        var tracer = services.GetService<TracerProvider>();
        var meter = services.GetService<MeterProvider>();
        var logger = services.GetService<LoggerProvider>();
        Task[] shutdowns =
        [
            Task.Run(() => tracer?.Shutdown(milliseconds)),
            Task.Run(() => meter?.Shutdown(milliseconds)),
            Task.Run(() => logger?.Shutdown(milliseconds)),
        ];
        // Each Shutdown honours the deadline itself; this bound only guards against one that does not.
        Task.WaitAll(shutdowns, deadline + deadline);
    }
}
