using RolloutApi.Drivers;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts.Infrastructure;

/// <summary>
/// Makes each agent's infrastructure match the database: the stable track runs the stable revision, the driver knows the
/// committed weight, and the canary track runs the active rollout's target or idles. The reconciler calls it at the end of
/// every pass, and every committed mutation signals a pass, so this follows each change promptly (weights committed within
/// one pass are coalesced to the latest). A failure for one agent is logged and retried on the next pass.
/// </summary>
public sealed partial class TrackConvergence(
    SqliteDatabase database, AgentStore agents, RolloutStore rollouts, TrackInfrastructure infrastructure, ILogger<TrackConvergence> logger)
{
    public async Task ConvergeAsync(CancellationToken cancellationToken)
    {
        List<(RevisionSpec Stable, int Weight, RevisionSpec? Canary)> desired = [];
        await using (var session = await database.ReadAsync(cancellationToken))
        {
            var active = (await rollouts.ListActiveAsync(session, cancellationToken)).ToDictionary(r => r.Agent);
            foreach (var agentRecord in await agents.ListAgentsAsync(session, cancellationToken))
            {
                var stable = await agents.GetRevisionAsync(session, agentRecord.Name, agentRecord.StableRevision, cancellationToken);
                RevisionSpec? canary = null;
                if (active.TryGetValue(agentRecord.Name, out var rollout)
                    && await agents.GetRevisionAsync(session, agentRecord.Name, rollout.ToRevision, cancellationToken) is { } target)
                {
                    canary = target.ToSpec();
                }

                desired.Add((stable!.ToSpec(), agentRecord.Weight, canary));
            }
        }

        foreach (var (stable, weight, canary) in desired)
        {
            try
            {
                await infrastructure.EnsureStableAsync(stable, cancellationToken);
                await infrastructure.EnsureWeightAsync(stable.Agent, weight, cancellationToken);
                await (canary is null
                    ? infrastructure.EnsureCanaryIdleAsync(stable.Agent, cancellationToken)
                    : infrastructure.EnsureCanaryAsync(canary, cancellationToken));
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                Log.ConvergeFailed(logger, stable.Agent, ex);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3020, Level = LogLevel.Error, Message = "Bringing the tracks of {Agent} in line with the database failed; retrying on the next pass")]
        public static partial void ConvergeFailed(ILogger logger, string agent, Exception exception);
    }
}
