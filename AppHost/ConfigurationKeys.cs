namespace AppHost;

/// <summary>AppHost configuration keys (command line, environment or appsettings).</summary>
public static class ConfigurationKeys
{
    /// <summary>Where RolloutApi keeps its SQLite file; unset, RolloutApi picks its default under its content root.</summary>
    public const string DatabasePath = "AgentAspire:DatabasePath";

    /// <summary>Set to true (<c>--AgentAspire:DemoTraffic=true</c>) to add the demo client that keeps the charts moving.</summary>
    public const string DemoTraffic = "AgentAspire:DemoTraffic";
}
