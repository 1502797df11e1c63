namespace AgentAspire.Contracts;

/// <summary>Names of the OpenTelemetry resource attributes and metric labels for an agent's identity.</summary>
public static class AgentTelemetryNames
{
    public const string AgentAttribute = "agent.name";
    public const string TrackAttribute = "agent.track";
    public const string VersionAttribute = "agent.version";

    public const string AgentLabel = "agent";
    public const string TrackLabel = "track";
    public const string VersionLabel = "version";
}
