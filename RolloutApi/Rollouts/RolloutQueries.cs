

using RolloutApi.Model;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts;

/// <summary>An audit entry as the API shows it.</summary>
public sealed record AuditEntryView(
    long Id, DateTimeOffset At, string Actor, string Action, string Reason, long? RolloutId, TransitionPoint? From, TransitionPoint To)
{
    public static AuditEntryView Of(AuditRecord entry) =>
        new(entry.Id, entry.At, entry.Actor, entry.Action, entry.Reason, entry.RolloutId, entry.From, entry.To);
}

/// <summary>The last analysis a rollout ran.</summary>
public sealed record AnalysisRunView(int StepIndex, string Provider, AnalysisVerdict Verdict, string Summary, DateTimeOffset At);

/// <summary>
/// A rollout at a glance. <see cref="CurrentStepIndex"/> is -1 while the canary track is prepared and equals
/// <see cref="StepCount"/> once every step is done. <see cref="Version"/> is the rollout's ETag.
/// </summary>
public sealed record RolloutStatus(
    long Id,
    string Agent,
    RolloutState State,
    RolloutHold? Hold,
    RevisionView? FromRevision,
    RevisionView? ToRevision,
    int CurrentStepIndex,
    RolloutStep? CurrentStep,
    int StepCount,
    int Weight,
    DateTimeOffset StepStartedAt,
    double TimeInStepSeconds,
    DateTimeOffset? PauseEndsAt,
    string NextAction,
    string Message,
    long Version,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? CompletedAt,
    IReadOnlyList<RolloutStep> Steps,
    AnalysisRunView? LastAnalysis,
    IReadOnlyList<AuditEntryView> LastTransitions)
{
    /// <summary>
    /// Which gateways apply the routing: after an operation that changed it, how many applied the new revision (the call
    /// waited a bounded time for them); on a read, the current revision. Null where not asked for (history lists).
    /// </summary>
    public Routing.GatewayAcknowledgement? Gateways { get; init; }
}

/// <summary>A rollout in a history list.</summary>
public sealed record RolloutSummary(
    long Id, RolloutState State, int FromRevision, int ToRevision, int CurrentStepIndex, int StepCount, long Version,
    DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? CompletedAt, string Message);

/// <summary>Read-side queries over rollouts and the audit log, each in one consistent snapshot.</summary>
public sealed class RolloutQueries(SqliteDatabase database, AgentStore agents, RolloutStore rollouts, TimeProvider time)
{
    public const int RecentTransitions = 5;
    public const int MaxPage = 500;

    /// <summary>The agent's newest rollout (what <c>/rollout</c> shows), a specific one, or null.</summary>
    public async Task<RolloutStatus?> StatusAsync(string agent, long? id, CancellationToken cancellationToken)
    {
        await using var session = await database.ReadAsync(cancellationToken);
        var rollout = id is { } rolloutId
            ? await rollouts.GetForAgentAsync(session, agent, rolloutId, cancellationToken)
            : await rollouts.GetLatestAsync(session, agent, cancellationToken);
        return rollout is null ? null : await StatusAsync(session, rollout, cancellationToken);
    }

    public async Task<IReadOnlyList<RolloutSummary>> ListAsync(string agent, int limit, CancellationToken cancellationToken)
    {
        await using var session = await database.ReadAsync(cancellationToken);
        return [.. (await rollouts.ListAsync(session, agent, Math.Clamp(limit, 1, MaxPage), cancellationToken)).Select(r => new RolloutSummary(
            r.Id, r.State, r.FromRevision, r.ToRevision, r.StepIndex, r.Steps.Count, r.Version, r.CreatedAt, r.CreatedBy, r.CompletedAt, r.Message))];
    }

    public async Task<IReadOnlyList<AuditEntryView>> AuditAsync(
        string agent, long? rolloutId, long? before, int limit, CancellationToken cancellationToken)
    {
        await using var session = await database.ReadAsync(cancellationToken);
        return [.. (await rollouts.ListAuditAsync(session, agent, rolloutId, before, Math.Clamp(limit, 1, MaxPage), cancellationToken))
            .Select(AuditEntryView.Of)];
    }

    /// <summary>Builds the status of <paramref name="rollout"/> (as just written by an operation) in a fresh snapshot.</summary>
    public async Task<RolloutStatus> StatusAsync(RolloutRecord rollout, CancellationToken cancellationToken)
    {
        await using var session = await database.ReadAsync(cancellationToken);
        var current = await rollouts.GetAsync(session, rollout.Id, cancellationToken) ?? rollout;
        return await StatusAsync(session, current, cancellationToken);
    }

    private async Task<RolloutStatus> StatusAsync(ISqlSession session, RolloutRecord rollout, CancellationToken cancellationToken)
    {
        var agent = await agents.GetAgentAsync(session, rollout.Agent, cancellationToken);
        var from = await agents.GetRevisionAsync(session, rollout.Agent, rollout.FromRevision, cancellationToken);
        var to = await agents.GetRevisionAsync(session, rollout.Agent, rollout.ToRevision, cancellationToken);
        var lastRun = await rollouts.LastAnalysisRunAsync(session, rollout.Id, cancellationToken);
        var transitions = await rollouts.ListAuditAsync(session, rollout.Agent, rollout.Id, null, RecentTransitions, cancellationToken);
        var now = time.GetUtcNow();
        var inStep = now - rollout.StepStartedAt;
        return new RolloutStatus(
            rollout.Id,
            rollout.Agent,
            rollout.State,
            rollout.Hold,
            from is null ? null : RevisionView.From(from),
            to is null ? null : RevisionView.From(to),
            rollout.StepIndex,
            rollout.CurrentStep,
            rollout.Steps.Count,
            rollout.State.IsActive() ? agent?.Weight ?? 0 : 0,
            rollout.StepStartedAt,
            Math.Round(Math.Max(0, inStep.TotalSeconds), 3),
            rollout.PauseEndsAt,
            NextAction(rollout, now),
            rollout.Message,
            rollout.Version,
            rollout.CreatedAt,
            rollout.CreatedBy,
            rollout.UpdatedAt,
            rollout.CompletedAt,
            rollout.Steps,
            lastRun is null ? null : new AnalysisRunView(lastRun.StepIndex, lastRun.Provider, lastRun.Verdict, lastRun.Summary, lastRun.At),
            [.. transitions.Select(AuditEntryView.Of)]);
    }

    /// <summary>What happens next, in words.</summary>
    public static string NextAction(RolloutRecord rollout, DateTimeOffset now)
    {
        string Then(int index) => index >= rollout.Steps.Count
            ? $"promotion of revision {rollout.ToRevision} to stable"
            : $"step {index} ({rollout.Steps[index].Describe()})";

        return rollout switch
        {
            { State: RolloutState.Promoted } => $"None: revision {rollout.ToRevision} is stable.",
            { State: RolloutState.RolledBack } => $"None: revision {rollout.ToRevision} was re-applied on the stable track.",
            { State: RolloutState.Aborted } => "None: aborted, the canary gets no traffic. Retry starts over; undo re-applies an earlier revision.",
            { Hold: RolloutHold.Operator } => $"Held by an operator: resume to continue, promote to skip to {Then(rollout.StepIndex + 1)}, or abort.",
            { Hold: RolloutHold.Inconclusive } => "Analysis was inconclusive: resume to re-run it, promote to skip it, or abort.",
            { StepIndex: RolloutRecord.Preparing } => $"Preparing the canary track with revision {rollout.ToRevision}, then {Then(0)}.",
            { StepsDone: true } => $"Switching the stable track to revision {rollout.ToRevision}, then weight 0.",
            { CurrentStep.Pause.DurationSeconds: not null } => PauseAction(rollout, now, Then(rollout.StepIndex + 1)),
            { CurrentStep.Pause: not null } => $"Waiting for promote; then {Then(rollout.StepIndex + 1)}.",
            { CurrentStep.Analysis: not null } => $"Running the analysis; on Pass {Then(rollout.StepIndex + 1)}, on Fail abort.",
            _ => $"Advancing to {Then(rollout.StepIndex + 1)}.",
        };
    }

    private static string PauseAction(RolloutRecord rollout, DateTimeOffset now, string then)
    {
        var remaining = rollout.PauseEndsAt!.Value - now;
        return remaining > TimeSpan.Zero
            ? $"{char.ToUpperInvariant(then[0])}{then[1..]} when the pause ends at {rollout.PauseEndsAt:O} (in {Math.Ceiling(remaining.TotalSeconds)}s); promote to skip the wait."
            : $"The pause has ended; advancing to {then}.";
    }
}
