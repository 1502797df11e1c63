using System.Globalization;
using System.Text.Json.Serialization;
using AgentAspire.Contracts;

namespace RolloutApi.Model;

/// <summary>
/// One step of a rollout; exactly one member is set (Argo Rollouts' shape):
/// <c>{"setWeight": 1000}</c> (basis points), <c>{"pause": {"durationSeconds": 300}}</c> or <c>{"pause": {}}</c> (until
/// promoted), <c>{"analysis": {}}</c> or <c>{"analysis": {"provider": "name"}}</c>.
/// </summary>
public sealed record RolloutStep(
    [property: JsonPropertyName("setWeight"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? SetWeight = null,
    [property: JsonPropertyName("pause"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] PauseStep? Pause = null,
    [property: JsonPropertyName("analysis"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] AnalysisStep? Analysis = null)
{
    public static RolloutStep Weight(int basisPoints) => new(SetWeight: basisPoints);

    public static RolloutStep PauseFor(TimeSpan duration) => new(Pause: new PauseStep((int)duration.TotalSeconds));

    public static RolloutStep PauseUntilPromoted() => new(Pause: new PauseStep());

    public static RolloutStep Analyze(string? provider = null) => new(Analysis: new AnalysisStep(provider));

    public static RolloutStep AnalyzeWith(string template) => new(Analysis: new AnalysisStep(Template: template));

    /// <summary>The step in words, for status and audit reasons.</summary>
    public string Describe() => this switch
    {
        { SetWeight: { } weight } => $"setWeight {weight} ({weight / 100.0:0.##}%)",
        { Pause.DurationSeconds: { } seconds } => $"pause {seconds}s",
        { Pause: not null } => "pause until promoted",
        { Analysis.Template: { } template } => $"analysis (template {template})",
        { Analysis: { } analysis } => analysis.Provider is null ? "analysis" : $"analysis ({analysis.Provider})",
        _ => "invalid step",
    };
}

/// <summary>Waits for <see cref="DurationSeconds"/> (from when the step was entered, across restarts), or until promoted when null.</summary>
public sealed record PauseStep(
    [property: JsonPropertyName("durationSeconds"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? DurationSeconds = null)
{
    [JsonIgnore]
    public TimeSpan? Duration => DurationSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null;
}

/// <summary>
/// Runs the named analysis provider (the configured default when null), or the agent's analysis template
/// <see cref="Template"/> (measured every interval until it decides), and acts on its verdict.
/// </summary>
public sealed record AnalysisStep(
    [property: JsonPropertyName("provider"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Provider = null,
    [property: JsonPropertyName("template"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Template = null);

/// <summary>Step-list rules and the default staged rollout.</summary>
public static class RolloutSteps
{
    public const int MaxSteps = 100;
    public const int MaxPauseSeconds = 7 * 24 * 60 * 60;

    /// <summary>
    /// The classic staged rollout: 1% → 10% → 25% → 50% → 100%, each held for a bake time and (below 100%) followed by an
    /// analysis, then promotion. Bake times: 5 min at 1% and 10% (catch crashes and obvious errors early), 10 min at 25% and
    /// 50% (enough traffic for latency percentiles to settle), 5 min at 100% before the canary becomes stable. About 45
    /// minutes end to end; pass your own steps to go faster or slower.
    /// </summary>
    public static IReadOnlyList<RolloutStep> Default { get; } =
    [
        RolloutStep.Weight(100), RolloutStep.PauseFor(TimeSpan.FromMinutes(5)), RolloutStep.Analyze(),
        RolloutStep.Weight(1_000), RolloutStep.PauseFor(TimeSpan.FromMinutes(5)), RolloutStep.Analyze(),
        RolloutStep.Weight(2_500), RolloutStep.PauseFor(TimeSpan.FromMinutes(10)), RolloutStep.Analyze(),
        RolloutStep.Weight(5_000), RolloutStep.PauseFor(TimeSpan.FromMinutes(10)), RolloutStep.Analyze(),
        RolloutStep.Weight(10_000), RolloutStep.PauseFor(TimeSpan.FromMinutes(5)),
    ];

    /// <summary>Problems with a step list, keyed by JSON path (empty when valid).</summary>
    public static Dictionary<string, string[]> Validate(IReadOnlyList<RolloutStep?> steps, Func<string, bool> isKnownProvider)
    {
        var errors = new Dictionary<string, string[]>();
        if (steps.Count is 0 or > MaxSteps)
        {
            errors["steps"] = [$"A rollout needs between 1 and {MaxSteps} steps."];
            return errors;
        }

        for (var i = 0; i < steps.Count; i++)
        {
            var key = string.Create(CultureInfo.InvariantCulture, $"steps[{i}]");
            var step = steps[i];
            if (step is null)
            {
                errors[key] = ["A step must be an object."];
                continue;
            }

            var kinds = (step.SetWeight is null ? 0 : 1) + (step.Pause is null ? 0 : 1) + (step.Analysis is null ? 0 : 1);
            if (kinds != 1)
            {
                errors[key] = ["A step has exactly one of setWeight, pause or analysis."];
            }
            else if (step.SetWeight is { } weight && !Weights.IsValid(weight))
            {
                errors[key + ".setWeight"] = [$"setWeight is in basis points, {Weights.Min}-{Weights.Max}."];
            }
            else if (step.Pause?.DurationSeconds is { } seconds && seconds is < 1 or > MaxPauseSeconds)
            {
                errors[key + ".pause.durationSeconds"] = [$"A pause lasts 1-{MaxPauseSeconds} seconds; omit it to pause until promoted."];
            }
            else if (step.Analysis is { Provider: not null, Template: not null })
            {
                errors[key + ".analysis"] = ["An analysis step names a provider or a template, not both."];
            }
            else if (step.Analysis?.Provider is { } provider && !isKnownProvider(provider))
            {
                errors[key + ".analysis.provider"] = [$"No analysis provider named '{provider}' is registered."];
            }
        }

        return errors;
    }

    /// <summary>The canary weight a rollout has set by the time it is at <paramref name="stepIndex"/> (0 before any setWeight).</summary>
    public static int WeightAt(IReadOnlyList<RolloutStep> steps, int stepIndex)
    {
        for (var i = Math.Min(stepIndex, steps.Count - 1); i >= 0; i--)
        {
            if (steps[i].SetWeight is { } weight)
            {
                return weight;
            }
        }

        return 0;
    }
}
