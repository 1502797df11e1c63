using AgentAspire.Contracts;
using RolloutApi.Drivers;
using RolloutApi.Http;
using RolloutApi.Model;
using RolloutApi.Routing;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts.Infrastructure;

/// <summary>
/// Moving the stable track onto another revision without failing a request, when the driver must stop the stable process to
/// do it (a local track restarting on another build, <see cref="ITrackDriver.RestartsToRun"/>): first the canary, which
/// runs the target, takes all traffic and every gateway acknowledges it; then the stable process restarts; the caller's
/// commit sets the weight back. Promotion (the reconcile pass) and undo use it; drivers that replace processes behind
/// a readiness check (Kubernetes) never need it.
/// </summary>
public sealed partial class StableDrain(
    SqliteDatabase database,
    AgentStore agents,
    RoutingTableWriter routing,
    TransitionRecorder recorder,
    TrackInfrastructure infrastructure,
    GatewayRegistry gateways,
    TimeProvider time,
    ILogger<StableDrain> logger)
{
    // How long a drain waits for every gateway to apply "all traffic to the canary" before the stable process restarts.
    // Past it, promotion comes back on a later pass; undo goes ahead (an operator asked for it now) and says so in the log.
    private static readonly TimeSpan AcknowledgementTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Whether moving <paramref name="agent"/>'s stable track to <paramref name="target"/> stops its process, and the committed weight.</summary>
    public async Task<(bool Restarts, int Weight)> NeedsDrainAsync(string agent, RevisionSpec target, CancellationToken cancellationToken)
    {
        await using var session = await database.ReadAsync(cancellationToken);
        var record = (await agents.GetAgentAsync(session, agent, cancellationToken))!;
        var stable = await agents.GetRevisionAsync(session, agent, record.StableRevision, cancellationToken)
            ?? throw new InvalidOperationException($"The stable revision {record.StableRevision} of '{agent}' is missing.");
        return (infrastructure.RestartsToRun(stable.ToSpec(), target), record.Weight);
    }

    /// <summary>Waits (bounded) until every known gateway applies the routing table in force now; false when some did not.</summary>
    public async Task<bool> GatewaysRouteCurrentTableAsync(string agent, CancellationToken cancellationToken)
    {
        var revision = gateways.CurrentRevision;
        var started = time.GetTimestamp();
        while (true)
        {
            var ack = await gateways.WaitForAsync(revision, cancellationToken);
            if (ack.AllApplied)
            {
                return true;
            }

            if (time.GetElapsedTime(started) >= AcknowledgementTimeout)
            {
                Log.NotAcknowledged(logger, agent, ack.Applied, ack.Known);
                return false;
            }
        }
    }

    /// <summary>
    /// Undo's drain, outside any rollout: the canary runs <paramref name="target"/>, then takes all traffic in one audited
    /// transition (checked by <paramref name="recheck"/> inside the transaction), then the gateways are waited for. Returns
    /// the route's new revision (the undo's own commit checks against it, not against the caller's If-Match any more).
    /// </summary>
    public async Task<(OperationError? Error, long RouteRevision)> DrainForUndoAsync(
        string agent, RevisionRecord target, string actor, Func<UnitOfWork, Task<OperationError?>> recheck, CancellationToken cancellationToken)
    {
        await infrastructure.EnsureCanaryAsync(target.ToSpec(), cancellationToken);
        long routeRevision;
        await using (var work = await database.BeginAsync(cancellationToken))
        {
            if (await recheck(work) is { } raced)
            {
                return (raced, 0);
            }

            var before = (await routing.ReadAsync(work, agent, cancellationToken))!;
            await agents.SetWeightAsync(work, agent, Weights.Max, cancellationToken);
            var route = await routing.ApplyAsync(work, agent, before, cancellationToken);
            await recorder.RecordAsync(work, new Transition(
                agent, TransitionActions.StableDraining, actor,
                $"Undo to revision {target.Number}: the canary runs build {target.Build ?? "(working copy)"} and takes all traffic while stable restarts on it.",
                null, new TransitionPoint(null, null, before.Weight), new TransitionPoint(null, null, route.Weight), target.Number), cancellationToken);
            await work.CommitAsync(cancellationToken);
            routeRevision = route.Revision;
        }

        await GatewaysRouteCurrentTableAsync(agent, cancellationToken);
        return (null, routeRevision);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3095, Level = LogLevel.Warning, Message = "{Agent}: {Applied} of {Known} gateways route all traffic to the canary; the stable process waits to restart")]
        public static partial void NotAcknowledged(ILogger logger, string agent, int applied, int known);
    }
}
