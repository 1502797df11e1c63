namespace RolloutApi.Hosting;

/// <summary>The meter and activity source name RolloutApi exports under (registered with ServiceDefaults).</summary>
public static class RolloutApiTelemetry
{
    public const string MeterName = "AgentAspire.RolloutApi";
}
