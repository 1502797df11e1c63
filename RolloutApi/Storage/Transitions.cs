

namespace RolloutApi.Storage;

/// <summary>Where an agent stood before or after a transition: the rollout's state and step (if any) and the canary weight.</summary>
public sealed record TransitionPoint(string? State, int? Step, int Weight);

/// <summary>One audited change: who did what to which agent, why, and from where to where.</summary>
/// <param name="Agent">The agent the change applies to.</param>
/// <param name="Action">What happened, one of <see cref="TransitionActions"/>.</param>
/// <param name="Actor">The credential's name, or a <c>system:</c> actor for the reconciler and configuration.</param>
/// <param name="Reason">Why, in words (an operator's reason or the engine's explanation).</param>
/// <param name="RolloutId">The rollout the change belongs to, if any.</param>
/// <param name="From">Before the change; null when the subject did not exist (a new agent or a new rollout).</param>
/// <param name="To">After the change.</param>
/// <param name="Revision">The revision the change concerns (a new revision, a rollout's target, an undo's target), if any.</param>
public sealed record Transition(
    string Agent,
    string Action,
    string Actor,
    string Reason,
    long? RolloutId,
    TransitionPoint? From,
    TransitionPoint To,
    int? Revision = null);

/// <summary>The actions an audit entry records.</summary>
public static class TransitionActions
{
    public const string AgentRegistered = "AgentRegistered";
    public const string AgentReconfigured = "AgentReconfigured";
    public const string WeightSet = "WeightSet";
    public const string RevisionCreated = "RevisionCreated";
    public const string RolloutStarted = "RolloutStarted";

    /// <summary>The reconciler entered the next step (a setWeight applied, a pause ended, an analysis passed).</summary>
    public const string StepEntered = "StepEntered";

    /// <summary>An operator skipped the current step.</summary>
    public const string StepPromoted = "StepPromoted";

    /// <summary>An operator skipped every remaining step; promotion follows.</summary>
    public const string PromotedFull = "PromotedFull";

    public const string Paused = "Paused";
    public const string Resumed = "Resumed";
    public const string AnalysisInconclusive = "AnalysisInconclusive";

    /// <summary>The canary revision became the stable revision; the canary went back to weight 0.</summary>
    public const string Promoted = "Promoted";

    /// <summary>
    /// The stable track is about to restart on another build (local tracks): the canary, already on that build, takes all
    /// traffic first, so that no request meets the stopped process. Promotion (or the undo) follows.
    /// </summary>
    public const string StableDraining = "StableDraining";

    public const string Aborted = "Aborted";
    public const string Retried = "Retried";
    public const string RolledBack = "RolledBack";

    /// <summary>An operator let forced traffic reach the canary of an aborted rollout again (or closed it once more).</summary>
    public const string ForcedCanaryAllowed = "ForcedCanaryAllowed";
    public const string ForcedCanaryClosed = "ForcedCanaryClosed";
}

/// <summary>Actors that are not a credential.</summary>
public static class SystemActors
{
    public const string Configuration = "system:configuration";
    public const string Reconciler = "system:reconciler";
}

/// <summary>The agent's assignment after a transition: which revision each track serves.</summary>
/// <param name="StableRevision">The stable track's revision number.</param>
/// <param name="CanaryRevision">The canary track's revision while a rollout runs; null when the canary is idle.</param>
/// <param name="Weight">The canary weight in basis points.</param>
public sealed record TrackAssignment(int StableRevision, int? CanaryRevision, int Weight);

/// <summary>What a <see cref="ITransitionParticipant"/> sees: the open transaction, the transition and the resulting assignment.</summary>
public sealed record TransitionContext(UnitOfWork Work, long AuditId, Transition Transition, TrackAssignment Assignment);

/// <summary>
/// Joins every audited transition inside its SQLite transaction, so that its own tables change atomically with the rollout
/// (e.g. flags for the canary revision flip in the same commit as an abort). Register with <c>TryAddEnumerable</c>.
/// </summary>
/// <remarks>
/// Use <see cref="UnitOfWork.Command"/> for SQL and <see cref="UnitOfWork.OnCommitted"/> for anything that must only happen
/// once the change is durable (publishing a stream snapshot). Throwing rolls the whole transition back. Do no network I/O here:
/// the write lock is held.
/// </remarks>
public interface ITransitionParticipant
{
    Task OnTransitionAsync(TransitionContext context, CancellationToken cancellationToken);
}
