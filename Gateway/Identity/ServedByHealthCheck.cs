using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Identity;

/// <summary>
/// Degraded (still HTTP 200: the gateway keeps serving) while responses recently came from a process other than the
/// one the gateway chose; the report says which and since when.
/// </summary>
internal sealed class ServedByHealthCheck(ServedByCheck check) : IHealthCheck
{
    public const string Name = "served-by";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (recent, summary) = check.Status();
        return Task.FromResult(recent
            ? HealthCheckResult.Degraded(
                $"Routing does not reach the process it names: {summary.Total} mismatched responses since start ({summary.Missing} without identity); last at {summary.LastAt:O}: {summary.LastDetail}.")
            : HealthCheckResult.Healthy(summary.Total == 0
                ? "Every proxied response came from the track the gateway chose."
                : $"No identity mismatch recently ({summary.Total} since start, last at {summary.LastAt:O})."));
    }
}
