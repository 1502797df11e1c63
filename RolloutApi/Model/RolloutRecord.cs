using System.Text.Json.Serialization;

namespace RolloutApi.Model;

/// <summary>Why an active rollout is held besides a pause step; cleared by resume or promote.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RolloutHold>))]
public enum RolloutHold
{
    /// <summary>An operator paused it.</summary>
    Operator,

    /// <summary>An analysis could not decide (too little data); an operator resumes (re-runs it) or promotes (skips it).</summary>
    Inconclusive,
}

/// <summary>
/// A rollout row. <see cref="StepIndex"/> is -1 while the canary track is being prepared, 0..n-1 at a step, and n (the
/// step count) once every step is done and promotion is due.
/// </summary>
public sealed record RolloutRecord(
    long Id,
    string Agent,
    int FromRevision,
    int ToRevision,
    IReadOnlyList<RolloutStep> Steps,
    RolloutState State,
    int StepIndex,
    DateTimeOffset StepStartedAt,
    RolloutHold? Hold,
    long Version,
    string Message,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? CompletedAt)
{
    public const int Preparing = -1;

    public RolloutStep? CurrentStep => StepIndex >= 0 && StepIndex < Steps.Count ? Steps[StepIndex] : null;

    public bool StepsDone => StepIndex >= Steps.Count;

    /// <summary>When the current pause step's timer runs out; null when not at a timed pause.</summary>
    public DateTimeOffset? PauseEndsAt => CurrentStep?.Pause?.Duration is { } duration ? StepStartedAt + duration : null;

    /// <summary>The state an unheld rollout has at <paramref name="stepIndex"/> of <paramref name="steps"/>.</summary>
    public static RolloutState StateAt(IReadOnlyList<RolloutStep> steps, int stepIndex) =>
        stepIndex >= 0 && stepIndex < steps.Count
            ? steps[stepIndex] switch
            {
                { Pause: not null } => RolloutState.Paused,
                { Analysis: not null } => RolloutState.Analyzing,
                _ => RolloutState.Progressing,
            }
            : RolloutState.Progressing;
}
