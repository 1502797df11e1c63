namespace AgentAspire.Contracts;

/// <summary>
/// The configuration keys one process sets for another (AppHost and the Kubernetes publisher write them, the services
/// read them): spelled once here, in <c>Section:Key</c> form. <see cref="ToEnvironmentVariable"/> gives the
/// <c>Section__Key</c> form an environment variable or a ConfigMap entry uses.
/// </summary>
public static class ConfigKeys
{
    /// <summary><c>Agent:Track</c> → <c>Agent__Track</c>: what .NET configuration reads from an environment variable.</summary>
    public static string ToEnvironmentVariable(string key) => key.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>Who an agent process is (bound to the agent library's identity options).</summary>
    public static class Agent
    {
        public const string Section = "Agent";
        public const string Name = Section + ":Name";
        public const string Track = Section + ":Track";
        public const string Version = Section + ":Version";

        /// <summary>The stored build the process runs (its content hash); the local AppHost passes it on the command line.</summary>
        public const string Build = Section + ":Build";
        public const string Revision = Section + ":Revision";
    }

    /// <summary>How an agent reaches its flags on RolloutApi.</summary>
    public static class Flags
    {
        public const string Section = "Flags";
        public const string ApiKey = Section + ":ApiKey";
    }

    /// <summary>The reference agent's own settings.</summary>
    public static class Worker
    {
        public const string Section = "Worker";
        public const string UpstreamUrl = Section + ":UpstreamUrl";
    }

    /// <summary>What the gateway routes and how it reaches RolloutApi.</summary>
    public static class Gateway
    {
        public const string Section = "Gateway";
        public const string Agent = Section + ":Agent";
        public const string ApiKey = Section + ":ApiKey";
        public const string StableVersion = Section + ":Stable:Version";
        public const string CanaryVersion = Section + ":Canary:Version";
        public const string ForcedTrackAllowAnonymous = Section + ":ForcedTrack:AllowAnonymous";
    }

    /// <summary>RolloutApi's own settings.</summary>
    public static class RolloutApi
    {
        public const string Section = "RolloutApi";
        public const string DatabasePath = Section + ":DatabasePath";
    }

    /// <summary>RolloutApi's credentials: <c>Auth:ApiKeys:{name}:Key</c> and <c>:Role</c> (a <see cref="Roles"/> name).</summary>
    public static class Auth
    {
        public const string Section = "Auth";
        public const string ApiKeys = Section + ":ApiKeys";

        public static string ApiKey(string name) => $"{ApiKeys}:{name}";

        public static string ApiKeyKey(string name) => $"{ApiKey(name)}:Key";

        public static string ApiKeyRole(string name) => $"{ApiKey(name)}:Role";
    }

    /// <summary>The agents RolloutApi seeds at start: <c>Agents:{agent}:Stable|Canary:Destination|Version</c>.</summary>
    public static class Agents
    {
        public const string Section = "Agents";

        public static string Agent(string agent) => $"{Section}:{agent}";

        public static string StableDestination(string agent) => $"{Agent(agent)}:Stable:Destination";

        public static string StableVersion(string agent) => $"{Agent(agent)}:Stable:Version";

        public static string CanaryDestination(string agent) => $"{Agent(agent)}:Canary:Destination";

        public static string CanaryVersion(string agent) => $"{Agent(agent)}:Canary:Version";

        /// <summary>The flag set an agent ships with (JSON, the <c>feature_management</c> object).</summary>
        public static string Flags(string agent) => $"{Agent(agent)}:Flags";

        /// <summary>The agent's container image repository (Kubernetes: the tag comes from the revision).</summary>
        public static string Image(string agent) => $"{Agent(agent)}:Image";

        /// <summary>The image tag the stable track runs at first start (Kubernetes).</summary>
        public static string StableImageTag(string agent) => $"{Agent(agent)}:Stable:ImageTag";
    }

    /// <summary>What drives RolloutApi's tracks (<c>local</c>, <c>kubernetes</c>).</summary>
    public static class Drivers
    {
        public const string Section = "Drivers";
        public const string Track = Section + ":Track";

        /// <summary>The local driver's section: where the AppHost's track controller listens, and its per-run token.</summary>
        public const string Local = Section + ":Local";
        public const string LocalControlUrl = Local + ":ControlUrl";
        public const string LocalToken = Local + ":Token";
    }

    /// <summary>RolloutApi's analysis.</summary>
    public static class Analysis
    {
        public const string Section = "Analysis";
        public const string Provider = Section + ":Provider";

        /// <summary>Prometheus' base URL for the <c>prometheus</c> metric source.</summary>
        public const string PrometheusUrl = Section + ":Prometheus:Url";
    }
}

/// <summary>The roles a RolloutApi credential can hold: viewers read, operators also mutate.</summary>
public static class Roles
{
    public const string Viewer = "viewer";
    public const string Operator = "operator";

    public static bool IsKnown(string? role) => role is Viewer or Operator;
}

/// <summary>The endpoints every service built on ServiceDefaults maps, in every environment (Kubernetes probes need them).</summary>
public static class HealthPaths
{
    /// <summary>Readiness: every health check.</summary>
    public const string Health = "/health";

    /// <summary>Liveness: only the checks tagged <c>live</c>.</summary>
    public const string Alive = "/alive";

    /// <summary>Prometheus exposition.</summary>
    public const string Metrics = "/metrics";
}

/// <summary>The values of <see cref="ConfigKeys.Drivers.Track"/>: what starts, stops and re-versions an agent's tracks.</summary>
public static class TrackDriverNames
{
    /// <summary>Aspire runs both tracks; the version label travels in the routing table and flags.</summary>
    public const string Local = "local";

    /// <summary>RolloutApi patches and scales the tracks' Deployments (what the Kubernetes publisher configures).</summary>
    public const string Kubernetes = "kubernetes";
}
