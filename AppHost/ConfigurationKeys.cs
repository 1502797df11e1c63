namespace AppHost;

/// <summary>AppHost configuration keys (command line, environment or appsettings).</summary>
public static class ConfigurationKeys
{
    /// <summary>Where RolloutApi keeps its SQLite file; unset, RolloutApi picks its default under its content root.</summary>
    public const string DatabasePath = "AgentAspire:DatabasePath";

    /// <summary>Set to true (<c>--AgentAspire:DemoTraffic=true</c>) to add the demo client that keeps the charts moving.</summary>
    public const string DemoTraffic = "AgentAspire:DemoTraffic";

    /// <summary>
    /// Set to true (<c>--AgentAspire:Prometheus=true</c>) to run a local Prometheus that scrapes every service and serves
    /// RolloutApi's <c>prometheus</c> analysis source (see <c>AppHost/Prometheus/</c>).
    /// </summary>
    public const string Prometheus = "AgentAspire:Prometheus";

    /// <summary>The Prometheus binary to run; default <c>/usr/bin/prometheus</c> (Debian's package).</summary>
    public const string PrometheusCommand = "AgentAspire:PrometheusCommand";

    /// <summary>The local build store's folder (<c>--AgentAspire:BuildStore=DIR</c>); unset, <c>~/.agentaspire/builds</c>.</summary>
    public const string BuildStore = "AgentAspire:BuildStore";
}
