namespace RolloutApi.Hosting;

/// <summary>The meter (and activity source) RolloutApi exports under, registered with ServiceDefaults, and its instrument names.</summary>
public static class RolloutApiTelemetry
{
    public const string MeterName = "AgentAspire.RolloutApi";

    /// <summary>Committed audited transitions, tagged with <see cref="AgentTag"/> and <see cref="ActionTag"/>.</summary>
    public const string TransitionsCounter = "rolloutapi.transitions";

    public const string AgentTag = "agent";
    public const string ActionTag = "action";
}
