using AgentAspire.Contracts;

namespace AppHost.Tests.Kubernetes;

/// <summary>The agent identity settings as the environment variables (and ConfigMap keys) a published pod reads.</summary>
public static class AgentVariables
{
    public static readonly string Name = ConfigKeys.ToEnvironmentVariable(ConfigKeys.Agent.Name);
    public static readonly string Track = ConfigKeys.ToEnvironmentVariable(ConfigKeys.Agent.Track);
    public static readonly string Version = ConfigKeys.ToEnvironmentVariable(ConfigKeys.Agent.Version);
}
