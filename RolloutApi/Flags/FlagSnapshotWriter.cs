using AgentAspire.Contracts;
using RolloutApi.Storage;

namespace RolloutApi.Flags;

/// <summary>A track's effective flag set, computed from the tables: what it runs and what it serves.</summary>
public sealed record ComputedFlags(TrackSource Source, FlagDocument Document);

/// <summary>
/// The one way flag snapshots change: recomputes both tracks' effective flag sets inside a transaction, and for each that
/// differs from what is stored takes the agent's next flag version, stores it, and publishes it once the transaction commits.
/// </summary>
public sealed class FlagSnapshotWriter(FlagSetStore store, FlagSnapshotBroadcaster broadcaster)
{
    /// <summary>
    /// Call inside the transaction of an audited transition (<paramref name="auditId"/>), after the state changed.
    /// <paramref name="force"/> takes a new version even when no snapshot changes (a change to the flag configuration itself,
    /// e.g. a kill switch for a flag no track serves). Returns the snapshots that changed.
    /// </summary>
    public async Task<IReadOnlyList<FlagSnapshot>> RefreshAsync(
        UnitOfWork work, string agent, TrackAssignment? assignment, long auditId, bool force, CancellationToken cancellationToken)
    {
        await store.EnsureAgentAsync(work, agent, cancellationToken);
        var computed = await ComputeAsync(work, agent, assignment, cancellationToken)
            ?? throw new InvalidOperationException($"Agent '{agent}' disappeared inside its own transaction.");

        var changed = new List<ComputedFlags>();
        foreach (var track in computed)
        {
            var stored = await store.ReadSnapshotAsync(work, agent, track.Source.Track, cancellationToken);
            if (stored is null
                || stored.Revision != track.Source.Revision
                || !string.Equals(stored.VersionLabel, track.Source.VersionLabel, StringComparison.Ordinal)
                || !string.Equals(stored.Document.Json, track.Document.Json, StringComparison.Ordinal))
            {
                changed.Add(track);
            }
        }

        if (changed.Count == 0 && !force)
        {
            return [];
        }

        // One version per transaction: every snapshot it changes carries the same number.
        var version = await store.BumpVersionAsync(work, agent, cancellationToken);
        var published = new List<FlagSnapshot>(changed.Count);
        foreach (var (source, document) in changed)
        {
            var record = new FlagSnapshotRecord(agent, source.Track, version, source.Revision, source.VersionLabel, document, auditId, work.Now);
            await store.UpsertSnapshotAsync(work, record, cancellationToken);
            var snapshot = record.ToSnapshot();
            published.Add(snapshot);
            work.OnCommitted(() => broadcaster.Publish(snapshot));
        }

        return published;
    }

    /// <summary>Both tracks' effective flag sets as the tables say now (in <paramref name="session"/>); null for an unknown agent.</summary>
    public async Task<IReadOnlyList<ComputedFlags>?> ComputeAsync(
        ISqlSession session, string agent, TrackAssignment? assignment, CancellationToken cancellationToken)
    {
        var sources = await store.ReadSourcesAsync(session, agent, assignment, cancellationToken);
        if (sources is null)
        {
            return null;
        }

        var overrides = (await store.ReadAgentAsync(session, agent, cancellationToken))?.Definitions ?? FlagDocument.Empty;
        var kills = await store.ListKillsAsync(session, agent, cancellationToken);
        var sets = new Dictionary<int, FlagDocument>();
        var computed = new List<ComputedFlags>(sources.Count);
        foreach (var source in sources)
        {
            if (!sets.TryGetValue(source.Revision, out var set))
            {
                sets[source.Revision] = set =
                    (await store.GetRevisionSetAsync(session, agent, source.Revision, cancellationToken))?.Document ?? FlagDocument.Empty;
            }

            computed.Add(new ComputedFlags(source, FlagDocument.Compose(set, overrides, kills, source.Track, source.Revision)));
        }

        return computed;
    }
}

/// <summary>
/// Makes flags follow revisions: every audited transition (rollout start, step, promotion, abort, undo, and the flag
/// changes themselves) recomputes the agent's snapshots in the same transaction as the change, so an abort's weight 0 and
/// the canary's reverted flags commit together.
/// </summary>
public sealed class FlagTransitionParticipant(FlagSnapshotWriter writer) : ITransitionParticipant
{
    public Task OnTransitionAsync(TransitionContext context, CancellationToken cancellationToken) =>
        writer.RefreshAsync(context.Work, context.Transition.Agent, context.Assignment, context.AuditId,
            force: FlagActions.IsFlagAction(context.Transition.Action), cancellationToken);
}
