using AgentAspire.Contracts;
using Microsoft.Extensions.Options;

namespace Gateway.Routing;

/// <summary>The routing in force: read on every request, replaced atomically when a newer routing table arrives.</summary>
public interface IRoutingState
{
    /// <summary>The snapshot in force; a plain volatile read, safe from any thread.</summary>
    RoutingSnapshot Current { get; }

    /// <summary>
    /// Applies <paramref name="table"/> if its revision is newer than the one in force (revisions only grow; an older
    /// or repeated table is ignored). Returns whether anything was applied.
    /// </summary>
    bool TryApply(RoutingTable table, out RoutingSnapshot applied);

    /// <summary>
    /// The lease ran out in <see cref="LeaseFallback.StableOnly"/> mode: canary weight 0, same revision, until the next
    /// table (even one of the same revision) is applied. Returns the snapshot in force afterwards.
    /// </summary>
    RoutingSnapshot FallBackToStable();
}

/// <summary>The default routing state: configuration first, then whatever RolloutApi publishes.</summary>
internal sealed partial class RoutingState : IRoutingState
{
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<RoutingState> _logger;
    private RoutingSnapshot _current;

    public RoutingState(IOptions<GatewayOptions> options, TimeProvider timeProvider, ILogger<RoutingState> logger)
    {
        _timeProvider = timeProvider;
        _logger = logger;
        var o = options.Value;
        _current = new RoutingSnapshot(
            o.Agent,
            revision: 0,
            o.InitialWeight,
            new TrackRoute(o.Stable.Destination, o.Stable.Version),
            new TrackRoute(o.Canary.Destination, o.Canary.Version),
            RoutingSource.Configuration,
            timeProvider.GetUtcNow());
    }

    public RoutingSnapshot Current => Volatile.Read(ref _current);

    public bool TryApply(RoutingTable table, out RoutingSnapshot applied)
    {
        ArgumentNullException.ThrowIfNull(table);
        while (true)
        {
            var current = Current;
            // After a stable-only fallback the same revision is applied again: contact is back and the table is the truth.
            if (table.Revision < current.Revision || (table.Revision == current.Revision && !current.StableOnlyFallback))
            {
                applied = current;
                return false;
            }

            var next = Next(current, table);
            // One writer in practice (the stream client); the compare-and-swap keeps a second one from losing an update.
            if (ReferenceEquals(Interlocked.CompareExchange(ref _current, next, current), current))
            {
                applied = next;
                return true;
            }
        }
    }

    public RoutingSnapshot FallBackToStable()
    {
        while (true)
        {
            var current = Current;
            if (current.StableOnlyFallback)
            {
                return current;
            }

            var next = new RoutingSnapshot(current.Agent, current.Revision, Weights.Min, current.Stable, current.Canary, current.Source,
                _timeProvider.GetUtcNow(), stableOnlyFallback: true);
            if (ReferenceEquals(Interlocked.CompareExchange(ref _current, next, current), current))
            {
                return next;
            }
        }
    }

    private RoutingSnapshot Next(RoutingSnapshot current, RoutingTable table)
    {
        var route = table.Find(current.Agent);
        if (route is null)
        {
            // Fail static: a table without this agent says nothing about where its traffic goes, so keep the routing.
            Log.AgentMissing(_logger, table.Revision, current.Agent);
            return new RoutingSnapshot(current.Agent, table.Revision, current.Weight, current.Stable, current.Canary,
                RoutingSource.RolloutApi, _timeProvider.GetUtcNow(), forcedCanary: current.ForcedCanary);
        }

        if (!Weights.IsValid(route.Weight))
        {
            Log.WeightClamped(_logger, table.Revision, route.Weight);
        }

        return new RoutingSnapshot(
            current.Agent,
            table.Revision,
            route.Weight,
            Merge(current.Stable, route.Stable),
            Merge(current.Canary, route.Canary),
            RoutingSource.RolloutApi,
            _timeProvider.GetUtcNow(),
            forcedCanary: route.ForcedCanary);
    }

    /// <summary>A table's empty or malformed fields keep what is in force instead of breaking the track.</summary>
    private static TrackRoute Merge(TrackRoute current, TrackRoute? incoming) => new(
        GatewayOptionsValidator.IsHttpUrl(incoming?.Destination) ? incoming!.Destination : current.Destination,
        string.IsNullOrWhiteSpace(incoming?.Version) ? current.Version : incoming.Version);

    private static partial class Log
    {
        [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, Message = "Routing table revision {Revision} has no route for agent '{Agent}'; keeping the current weights.")]
        public static partial void AgentMissing(ILogger logger, long revision, string agent);

        [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "Routing table revision {Revision} has weight {Weight} outside 0..10000; clamped.")]
        public static partial void WeightClamped(ILogger logger, long revision, int weight);
    }
}
