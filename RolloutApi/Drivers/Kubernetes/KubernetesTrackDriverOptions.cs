using System.Text.RegularExpressions;
using AgentAspire.Contracts;
using Microsoft.Extensions.Options;
using RolloutApi.Hosting;

namespace RolloutApi.Drivers.Kubernetes;

/// <summary>How the Kubernetes track driver finds and drives an agent's Deployments (section <c>Drivers:Kubernetes</c>).</summary>
public sealed class KubernetesTrackDriverOptions
{
    public const string SectionName = $"{ConfigKeys.Drivers.Section}:Kubernetes";

    /// <summary>Where a pod finds its own namespace; the default <see cref="Namespace"/> when running in a cluster.</summary>
    public const string InClusterNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

    public const string FallbackNamespace = "default";

    /// <summary>
    /// The publisher names each track's Deployment after its Aspire resource (<c>agent-stable</c>, <c>agent-canary</c>);
    /// <c>{agent}</c> is there for clusters that run several agents, e.g. <c>{agent}-{track}</c>.
    /// </summary>
    public const string DefaultDeploymentNameFormat = "agent-{track}";

    /// <summary>The setting AgentWorker reads its version label from; the publisher puts it on the agent container.</summary>
    public static readonly string DefaultVersionEnvironmentVariable = ConfigKeys.ToEnvironmentVariable(ConfigKeys.Agent.Version);

    /// <summary>The namespace of the Deployments; unset, the pod's own namespace, or <c>default</c> outside a cluster.</summary>
    public string? Namespace { get; set; }

    /// <summary>The Deployment of a track: <c>{agent}</c> and <c>{track}</c> are replaced; <c>{track}</c> is required.</summary>
    public string DeploymentNameFormat { get; set; } = DefaultDeploymentNameFormat;

    /// <summary>The container whose image is patched; unset, the pod template's first container.</summary>
    public string? Container { get; set; }

    /// <summary>
    /// The image repository a revision's tag is appended to (e.g. <c>registry.example.com/agentaspire/agentworker</c>)
    /// for agents whose catalog entry (<c>Agents:{agent}:Image</c>) names none; unset too, the repository of the image
    /// the container runs now, so only the tag changes.
    /// </summary>
    public string? ImageRepository { get; set; }

    /// <summary>
    /// The container environment variable set to the revision's version label in the same patch as the image, so pods
    /// report the version they run; empty leaves the environment alone.
    /// </summary>
    public string? VersionEnvironmentVariable { get; set; } = DefaultVersionEnvironmentVariable;

    /// <summary>How long a deploy (or a replica-ratio scale-up) may take to become available before it fails.</summary>
    public TimeSpan AvailabilityTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Who splits the work between the tracks: the gateway (by request) or the replica counts.</summary>
    public KubernetesTrackMode Mode { get; set; } = KubernetesTrackMode.Gateway;

    /// <summary>
    /// An agent's replicas across both tracks: what <see cref="KubernetesTrackMode.ReplicaRatio"/> divides, and the count a
    /// stable Deployment found at zero is brought back to before a revision is deployed on it.
    /// </summary>
    public int TotalReplicas { get; set; } = 10;

    /// <summary>How many times a patch answered with 409 Conflict is tried again.</summary>
    public int ConflictRetries { get; set; } = 5;

    /// <summary>A kubeconfig file for use outside a cluster; unset, <c>KUBECONFIG</c> or <c>~/.kube/config</c>.</summary>
    public string? KubeConfigPath { get; set; }

    /// <summary>The kubeconfig context to use; unset, the file's current context.</summary>
    public string? Context { get; set; }
}

/// <summary>How an agent's work is divided between its stable and canary tracks on Kubernetes.</summary>
public enum KubernetesTrackMode
{
    /// <summary>The gateway splits requests by weight; replica counts do not follow the weight.</summary>
    Gateway,

    /// <summary>
    /// For agents that pull work instead of receiving requests: the tracks' replica counts approximate the weight
    /// (the classic Kubernetes canary, where the share of pods is the share of work).
    /// </summary>
    ReplicaRatio,
}

/// <summary>Checks <see cref="KubernetesTrackDriverOptions"/> at start, reporting every problem at once.</summary>
internal sealed partial class KubernetesTrackDriverOptionsValidator : IValidateOptions<KubernetesTrackDriverOptions>
{
    public ValidateOptionsResult Validate(string? name, KubernetesTrackDriverOptions options)
    {
        var section = KubernetesTrackDriverOptions.SectionName;
        var problems = new List<string>();
        if (string.IsNullOrEmpty(options.Namespace) || !DnsLabel().IsMatch(options.Namespace))
        {
            problems.Add($"{section}:Namespace '{options.Namespace}' is not a DNS-1123 label.");
        }

        if (string.IsNullOrWhiteSpace(options.DeploymentNameFormat) || !options.DeploymentNameFormat.Contains("{track}", StringComparison.Ordinal))
        {
            problems.Add($"{section}:DeploymentNameFormat '{options.DeploymentNameFormat}' must contain {{track}}: each track is its own Deployment.");
        }

        if (!string.IsNullOrEmpty(options.ImageRepository) && !ImageRepository().IsMatch(options.ImageRepository))
        {
            problems.Add($"{section}:ImageRepository '{options.ImageRepository}' is not an image repository (host[:port]/path, lowercase, no tag, no scheme).");
        }

        if (options.AvailabilityTimeout <= TimeSpan.Zero || options.AvailabilityTimeout > TimeSpan.FromHours(1))
        {
            problems.Add($"{section}:AvailabilityTimeout must be more than 0 and at most 1 hour.");
        }

        if (!Enum.IsDefined(options.Mode))
        {
            problems.Add($"{section}:Mode must be {nameof(KubernetesTrackMode.Gateway)} or {nameof(KubernetesTrackMode.ReplicaRatio)}.");
        }

        // Two replicas at least: below full weight each track keeps one (see ReplicaSplit).
        if (options.TotalReplicas is < 2 or > 1000)
        {
            problems.Add($"{section}:TotalReplicas must be between 2 and 1000.");
        }

        if (options.ConflictRetries is < 0 or > 20)
        {
            problems.Add($"{section}:ConflictRetries must be between 0 and 20.");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex("^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$")]
    private static partial Regex ImageRepository();
}
