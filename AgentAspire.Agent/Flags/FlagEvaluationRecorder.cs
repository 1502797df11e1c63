using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentAspire.Agent.Identity;
using AgentAspire.Contracts;
using Microsoft.FeatureManagement;

namespace AgentAspire.Agent.Flags;

/// <summary>Telemetry names for flag evaluations, after OpenTelemetry's feature-flag semantic conventions.</summary>
public static class FlagTelemetryNames
{
    /// <summary>The meter <see cref="IFlagEvaluationRecorder"/> counts on; AddRemoteFeatureFlags exports it.</summary>
    public const string MeterName = "AgentAspire.Flags";

    /// <summary>Counter of recorded evaluations, labelled by flag and variant (plus the agent's identity).</summary>
    public const string EvaluationsCounter = "agentaspire.flags.evaluations";

    /// <summary>The span event per evaluation.</summary>
    public const string EvaluationEvent = "feature_flag.evaluation";

    public const string KeyAttribute = "feature_flag.key";
    public const string VariantAttribute = "feature_flag.result.variant";
    public const string ValueAttribute = "feature_flag.result.value";
    public const string ProviderAttribute = "feature_flag.provider.name";
    public const string VersionAttribute = "feature_flag.version";

    public const string ProviderName = "Microsoft.FeatureManagement";

    /// <summary>The variant label of a boolean flag that was on, or off; and of a flag that assigned no variant.</summary>
    public const string On = "on";
    public const string Off = "off";
    public const string NoVariant = "none";
}

/// <summary>
/// One recorded evaluation: which flag served this request, and with which variant (a low-cardinality label: the
/// variant's name, <c>on</c>/<c>off</c> for a boolean flag, <c>none</c> when no variant was assigned).
/// </summary>
public readonly record struct FlagEvaluation(string Feature, string Variant)
{
    /// <summary>A tag for the agent's own request metrics, so analysis can split latency and errors by variant.</summary>
    public KeyValuePair<string, object?> VariantTag => new(FlagTelemetryNames.VariantAttribute, Variant);

    /// <summary>A tag naming the flag, for metrics that carry more than one flag's variant.</summary>
    public KeyValuePair<string, object?> KeyTag => new(FlagTelemetryNames.KeyAttribute, Feature);
}

/// <summary>
/// Makes visible which variant served a request: a <c>feature_flag.evaluation</c> event and <c>feature_flag.key</c> /
/// <c>feature_flag.result.variant</c> attributes on the current span, and a count on <see cref="FlagTelemetryNames.EvaluationsCounter"/>.
/// </summary>
public interface IFlagEvaluationRecorder
{
    /// <summary>Records a boolean flag's result (variant label <c>on</c> or <c>off</c>).</summary>
    FlagEvaluation Record(string feature, bool enabled);

    /// <summary>Records the variant a flag assigned (null: none was).</summary>
    FlagEvaluation Record(string feature, Variant? variant);
}

/// <summary>Evaluate-and-record in one call, for the common case.</summary>
public static class FlagEvaluationExtensions
{
    public static async ValueTask<bool> IsEnabledAndRecordAsync(
        this IVariantFeatureManager features, IFlagEvaluationRecorder recorder, string feature, CancellationToken cancellationToken = default)
    {
        var enabled = await features.IsEnabledAsync(feature, cancellationToken).ConfigureAwait(false);
        recorder.Record(feature, enabled);
        return enabled;
    }

    public static async ValueTask<Variant?> GetVariantAndRecordAsync(
        this IVariantFeatureManager features, IFlagEvaluationRecorder recorder, string feature, CancellationToken cancellationToken = default)
    {
        var variant = await features.GetVariantAsync(feature, cancellationToken).ConfigureAwait(false);
        recorder.Record(feature, variant);
        return variant;
    }
}

/// <summary>The default recorder; the counter carries the agent, track and (current) version labels like every agent metric.</summary>
internal sealed class FlagEvaluationRecorder : IFlagEvaluationRecorder
{
    private readonly IAgentIdentity _identity;
    private readonly FlagStore _store;
    private readonly Counter<long> _evaluations;

    public FlagEvaluationRecorder(IAgentIdentity identity, FlagStore store, IMeterFactory meterFactory)
    {
        _identity = identity;
        _store = store;
        #pragma warning disable CA2000 // IMeterFactory owns the meters it creates and disposes them with the service provider
        _evaluations = meterFactory.Create(FlagTelemetryNames.MeterName)
            .CreateCounter<long>(FlagTelemetryNames.EvaluationsCounter, "{evaluation}", "Flag evaluations recorded by the agent, by variant.");
        #pragma warning restore CA2000
    }

    public FlagEvaluation Record(string feature, bool enabled) =>
        Record(feature, enabled ? FlagTelemetryNames.On : FlagTelemetryNames.Off, enabled);

    public FlagEvaluation Record(string feature, Variant? variant) =>
        Record(feature, string.IsNullOrEmpty(variant?.Name) ? FlagTelemetryNames.NoVariant : variant.Name, value: null);

    private FlagEvaluation Record(string feature, string variant, bool? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(feature);
        var evaluation = new FlagEvaluation(feature, variant);
        if (Activity.Current is { } activity)
        {
            // Attributes for a filterable span; the event keeps every evaluation when a request reads several flags.
            activity.SetTag(FlagTelemetryNames.KeyAttribute, feature);
            activity.SetTag(FlagTelemetryNames.VariantAttribute, variant);
            var tags = new ActivityTagsCollection
            {
                [FlagTelemetryNames.KeyAttribute] = feature,
                [FlagTelemetryNames.VariantAttribute] = variant,
                [FlagTelemetryNames.ProviderAttribute] = FlagTelemetryNames.ProviderName,
                [FlagTelemetryNames.VersionAttribute] = _store.Current?.Version.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "default",
            };
            if (value is { } result)
            {
                tags[FlagTelemetryNames.ValueAttribute] = result;
            }

            activity.AddEvent(new ActivityEvent(FlagTelemetryNames.EvaluationEvent, tags: tags));
        }

        _evaluations.Add(1, new TagList
        {
            { FlagTelemetryNames.KeyAttribute, feature },
            { FlagTelemetryNames.VariantAttribute, variant },
            { AgentTelemetryNames.AgentLabel, _identity.Agent },
            { AgentTelemetryNames.TrackLabel, _identity.Track },
            { AgentTelemetryNames.VersionLabel, _identity.Version },
        });
        return evaluation;
    }
}
