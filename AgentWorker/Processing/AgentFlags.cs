namespace AgentWorker.Processing;

/// <summary>
/// Feature flags this agent reads through <c>IVariantFeatureManager</c>. Locally they come from the
/// <c>feature_management</c> configuration section; later a remote provider feeds the same names.
/// </summary>
public static class AgentFlags
{
    /// <summary>Adds keywords to a result. A variant may set <c>keywordCount</c> in its configuration.</summary>
    public const string EnrichedOutput = "EnrichedOutput";

    /// <summary>The key in a variant's configuration that sets how many keywords enriched output lists.</summary>
    public const string KeywordCountSetting = "keywordCount";

    /// <summary>
    /// Turns on fault injection (drills): its variant's configuration sets <c>failureRate</c> (0-1) and <c>latencyMs</c>.
    /// A revision's flag set carrying it makes that revision a bad canary.
    /// </summary>
    public const string FaultInjection = "FaultInjection";

    public const string FailureRateSetting = "failureRate";

    public const string LatencyMsSetting = "latencyMs";
}

/// <summary>The behaviours a result reports it was served by.</summary>
public static class AgentBehaviours
{
    public const string Basic = "basic";
    public const string Enriched = "enriched";
}
