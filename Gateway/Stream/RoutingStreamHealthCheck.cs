using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Stream;

/// <summary>
/// Unhealthy (HTTP 503: not ready) at start until the first routing table from RolloutApi is applied, for at most
/// Gateway:FirstTableWait, so that a restarted gateway takes traffic only with the table in force. After that,
/// Degraded (still HTTP 200) while the routing stream is down: the gateway keeps serving on its last table, so it
/// stays ready, but the health report says why the weights are not moving.
/// </summary>
internal sealed class RoutingStreamHealthCheck(IRoutingStreamStatus status) : IHealthCheck
{
    public const string Name = "routing-stream";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(status.AwaitingFirstTable
            ? HealthCheckResult.Unhealthy("No routing table from RolloutApi yet: not ready until the table in force is applied (Gateway:FirstTableWait).")
            : status.Connected
            ? HealthCheckResult.Healthy("Following RolloutApi's routing stream.")
            : HealthCheckResult.Degraded((status.DownSince is { } since
                ? $"Routing stream down since {since:O}; serving on the last routing table."
                : "Routing stream not connected yet; serving on the configured initial weight.")
                + (status.LeaseExpired ? " Lease expired: the lease fallback applies." : "")));
}
