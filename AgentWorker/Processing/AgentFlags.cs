namespace AgentWorker.Processing;

/// <summary>
/// Feature flags this agent reads through <c>IVariantFeatureManager</c>. The agent ships their
/// definitions in the <c>feature_management</c> section of its appsettings.json: its local default, and (through the AppHost)
/// the definitions RolloutApi starts the agent with, so that each flag and its kill switch exist from the first start.
/// </summary>
public static class AgentFlags
{
    /// <summary>Adds keywords to a result. A variant may set <c>keywordCount</c> in its configuration.</summary>
    public const string EnrichedOutput = "EnrichedOutput";

    /// <summary>
    /// An operational kill switch, on by default: while it is on, each item is posted to the upstream API. Killing it
    /// stops the calls at once (say, when the upstream misbehaves) and items are processed locally. A flag that is not
    /// defined is off, so a flag set that drops it stops the calls too.
    /// </summary>
    public const string UpstreamCalls = "UpstreamCalls";

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
