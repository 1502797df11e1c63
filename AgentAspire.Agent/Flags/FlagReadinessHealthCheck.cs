using AgentAspire.Agent.Identity;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AgentAspire.Agent.Flags;

/// <summary>
/// Readiness (not liveness): not ready until the first snapshot from RolloutApi, or until <see cref="FlagsOptions.ReadyTimeout"/>
/// has passed since start; after that healthy on whatever is in force, and the description says which. Once ready,
/// it stays ready through outages: the agent keeps serving with the flags it has. Waiting is a normal part of every
/// start, so it reports Degraded (logged as a warning, not an error) under the startup tag, which makes <c>/health</c>
/// answer 503 all the same.
/// </summary>
internal sealed class FlagReadinessHealthCheck(
    FlagStore store,
    FlagStreamStatus status,
    IOptions<FlagsOptions> options,
    TimeProvider timeProvider) : IHealthCheck
{
    public const string Name = "flags";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var state = store.State;
        var data = new Dictionary<string, object>
        {
            ["source"] = state.Source.ToString(),
            ["version"] = state.Snapshot?.Version ?? 0L,
            ["connected"] = status.Connected,
        };
        if (state.Snapshot?.Revision is { } revision)
        {
            data["revision"] = revision;
        }

        if (state.Source == FlagSource.Remote)
        {
            return Task.FromResult(HealthCheckResult.Healthy(
                $"Flags from RolloutApi, version {state.Snapshot!.Version}.", data));
        }

        if (status.StartedAt is not { } startedAt)
        {
            return Task.FromResult(HealthCheckResult.Degraded("The flag stream has not started.", data: data));
        }

        var timeout = options.Value.ReadyTimeout;
        var waited = timeProvider.GetUtcNow() - startedAt;
        if (waited < timeout)
        {
            return Task.FromResult(HealthCheckResult.Degraded(
                $"Waiting for the first flag snapshot from RolloutApi ({waited.TotalSeconds:0.0}s of {timeout.TotalSeconds:0.0}s).",
                data: data));
        }

        var serving = state.Source == FlagSource.LastKnown
            ? $"last-known flags from disk (version {state.Snapshot!.Version})"
            : "the agent's local default flags";
        return Task.FromResult(HealthCheckResult.Healthy(
            $"No flag snapshot from RolloutApi within {timeout.TotalSeconds:0.0}s; serving {serving}.", data));
    }
}
