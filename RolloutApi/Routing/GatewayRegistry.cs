using AgentAspire.Contracts;
using Microsoft.Extensions.Options;
using RolloutApi.Hosting;

namespace RolloutApi.Routing;

/// <summary>One gateway as RolloutApi knows it: the routing revision it last reported applying and how far behind it is.</summary>
/// <param name="Id">The gateway's own id (<c>Gateway:Id</c>).</param>
/// <param name="Agent">The agent it routes, as it reported.</param>
/// <param name="Connected">Whether it follows the routing stream right now.</param>
/// <param name="AppliedRevision">The routing table revision it last reported in force; 0 before its first report.</param>
/// <param name="RevisionsBehind">Current table revision minus <paramref name="AppliedRevision"/> (0 when up to date).</param>
/// <param name="LagMs">How long it has been behind the current table (0 when up to date).</param>
/// <param name="LastSeen">Its last report, stream connect or disconnect.</param>
/// <param name="Fallback">The safe mode its lease fell back to (e.g. <c>stable-only</c>) as it last reported; null while it follows the table.</param>
public sealed record GatewayView(
    string Id, string? Agent, bool Connected, long AppliedRevision, long RevisionsBehind, double LagMs, DateTimeOffset LastSeen,
    string? Fallback);

/// <summary>
/// How many known gateways applied a routing revision: returned by every call that changed routing (after waiting at most
/// <see cref="RolloutApiOptions.GatewayAckTimeout"/>) and shown on the rollout view.
/// </summary>
/// <param name="Revision">The routing table revision asked about (the one the call published, or the current one).</param>
/// <param name="Applied">Known gateways that report this revision or a newer one in force.</param>
/// <param name="Known">Gateways RolloutApi knows: connected now, or seen within <see cref="RolloutApiOptions.GatewayForgetAfter"/>.</param>
/// <param name="WaitedMs">How long the call waited for acknowledgements (0 for a read).</param>
/// <param name="Gateways">Each known gateway, by id.</param>
public sealed record GatewayAcknowledgement(long Revision, int Applied, int Known, double WaitedMs, IReadOnlyList<GatewayView> Gateways)
{
    /// <summary>True when every known gateway applied <see cref="Revision"/> (also when none is known).</summary>
    public bool AllApplied => Applied == Known;
}

/// <summary>
/// The gateways following RolloutApi's routing: who is connected, which revision each reports applying and since when it
/// lags. In memory only: after a RolloutApi restart the gateways reconnect within their backoff and report again.
/// </summary>
/// <remarks>
/// A gateway that disconnects stays known for <see cref="RolloutApiOptions.GatewayForgetAfter"/>, so that a gateway cut
/// off from the stream counts as "not applied" instead of silently dropping out of the count; one that stops gracefully
/// says goodbye (<c>DELETE</c>) and is forgotten at once.
/// </remarks>
public sealed class GatewayRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _gateways = new(StringComparer.Ordinal);
    private readonly RoutingTableBroadcaster _broadcaster;
    private readonly TimeProvider _time;
    private readonly IOptions<RolloutApiOptions> _options;
    private TaskCompletionSource _changed = NewSignal();

    public GatewayRegistry(RoutingTableBroadcaster broadcaster, TimeProvider time, IOptions<RolloutApiOptions> options)
    {
        _broadcaster = broadcaster;
        _time = time;
        _options = options;
        broadcaster.Published += OnPublished;
    }

    /// <summary>A gateway opened the routing stream; dispose the result when that stream ends.</summary>
    public IDisposable Connect(string id)
    {
        lock (_lock)
        {
            var entry = GetOrAdd(id);
            entry.Streams++;
            entry.LastSeen = _time.GetUtcNow();
            SignalLocked();
        }

        return new Connection(this, id);
    }

    /// <summary>Records what a gateway reports applying.</summary>
    public void Report(string id, GatewayReport report)
    {
        lock (_lock)
        {
            var entry = GetOrAdd(id);
            entry.Agent = report.Agent ?? entry.Agent;
            entry.Fallback = report.Fallback;
            entry.Applied = Math.Max(entry.Applied, report.Revision);
            entry.LastSeen = _time.GetUtcNow();
            if (entry.Applied >= _broadcaster.Current.Revision)
            {
                entry.BehindSince = null;
            }

            SignalLocked();
        }
    }

    /// <summary>A gateway stopping gracefully: it no longer counts. Returns whether it was known.</summary>
    public bool Remove(string id)
    {
        lock (_lock)
        {
            var removed = _gateways.Remove(id);
            SignalLocked();
            return removed;
        }
    }

    /// <summary>The routing table revision in force at RolloutApi; take it before a change to pass to <see cref="AfterChangeAsync"/>.</summary>
    public long CurrentRevision => _broadcaster.Current.Revision;

    /// <summary>Who applied the current table, right now (the rollout view and the gateway list).</summary>
    public GatewayAcknowledgement Current() => Status(CurrentRevision);

    /// <summary>
    /// After a call that may have changed routing: if the table moved past <paramref name="before"/>, waits (bounded) for
    /// the gateways to apply it; otherwise reports the current state at once.
    /// </summary>
    public Task<GatewayAcknowledgement> AfterChangeAsync(long before, CancellationToken cancellationToken)
    {
        var current = CurrentRevision;
        return current > before ? WaitForAsync(current, cancellationToken) : Task.FromResult(Status(current));
    }

    /// <summary>The acknowledgement state of <paramref name="revision"/> right now, without waiting.</summary>
    public GatewayAcknowledgement Status(long revision)
    {
        lock (_lock)
        {
            return BuildLocked(revision, waitedMs: 0);
        }
    }

    /// <summary>
    /// Waits until every known gateway reports <paramref name="revision"/> (or newer) in force, or
    /// <see cref="RolloutApiOptions.GatewayAckTimeout"/> passes, and says how many did.
    /// </summary>
    public async Task<GatewayAcknowledgement> WaitForAsync(long revision, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        using var timeout = new CancellationTokenSource(_options.Value.GatewayAckTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                var ack = BuildLocked(revision, _time.GetElapsedTime(started).TotalMilliseconds);
                if (ack.AllApplied || timeout.IsCancellationRequested)
                {
                    return ack;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(linked.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // The bounded wait is over: the next pass reports whoever has applied it by now.
            }
        }
    }

    private void OnPublished(RoutingTable table, DateTimeOffset at)
    {
        lock (_lock)
        {
            foreach (var entry in _gateways.Values)
            {
                if (entry.Applied < table.Revision)
                {
                    entry.BehindSince ??= at;
                }
            }
        }
    }

    private void Disconnect(string id)
    {
        lock (_lock)
        {
            if (_gateways.TryGetValue(id, out var entry))
            {
                entry.Streams = Math.Max(0, entry.Streams - 1);
                entry.LastSeen = _time.GetUtcNow();
            }

            SignalLocked();
        }
    }

    private Entry GetOrAdd(string id)
    {
        if (!_gateways.TryGetValue(id, out var entry))
        {
            entry = new Entry(id);
            _gateways[id] = entry;
            if (_broadcaster.Current.Revision > 0)
            {
                // Behind from the moment it is known until its first report says otherwise.
                entry.BehindSince = _time.GetUtcNow();
            }
        }

        return entry;
    }

    private GatewayAcknowledgement BuildLocked(long revision, double waitedMs)
    {
        var now = _time.GetUtcNow();
        var current = _broadcaster.Current.Revision;
        var forgetBefore = now - _options.Value.GatewayForgetAfter;
        var views = new List<GatewayView>(_gateways.Count);
        var applied = 0;
        List<string>? forgotten = null;
        foreach (var entry in _gateways.Values)
        {
            if (entry.Streams == 0 && entry.LastSeen < forgetBefore)
            {
                (forgotten ??= []).Add(entry.Id);
                continue;
            }

            if (entry.Applied >= revision)
            {
                applied++;
            }

            var behind = Math.Max(0, current - entry.Applied);
            var lag = behind > 0 && entry.BehindSince is { } since ? (now - since).TotalMilliseconds : 0;
            views.Add(new GatewayView(entry.Id, entry.Agent, entry.Streams > 0, entry.Applied, behind, Math.Round(lag, 1),
                entry.LastSeen, entry.Fallback));
        }

        foreach (var id in forgotten ?? [])
        {
            _gateways.Remove(id);
        }

        views.Sort(static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        return new GatewayAcknowledgement(revision, applied, views.Count, Math.Round(waitedMs, 1), views);
    }

    private void SignalLocked()
    {
        _changed.TrySetResult();
        _changed = NewSignal();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class Entry(string id)
    {
        public string Id { get; } = id;

        public string? Agent { get; set; }

        public int Streams { get; set; }

        public long Applied { get; set; }

        public DateTimeOffset LastSeen { get; set; }

        public DateTimeOffset? BehindSince { get; set; }

        public string? Fallback { get; set; }
    }

    private sealed class Connection(GatewayRegistry registry, string id) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                registry.Disconnect(id);
            }
        }
    }
}
