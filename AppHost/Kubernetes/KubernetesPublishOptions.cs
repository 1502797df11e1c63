using System.ComponentModel.DataAnnotations;
using k8s.Models;
using Microsoft.Extensions.Options;

namespace AppHost.Kubernetes;

/// <summary>
/// How the app model is laid out on a cluster, bound from the AppHost's <c>Kubernetes</c> configuration section
/// (e.g. <c>--Kubernetes:Namespace=agents</c> on the publish command line).
/// </summary>
public sealed class KubernetesPublishOptions : IValidatableObject
{
    public const string SectionName = "Kubernetes";

    public const string ClusterIP = "ClusterIP";
    public const string LoadBalancer = "LoadBalancer";
    public const string NodePort = "NodePort";

    /// <summary>
    /// The namespace every object is placed in. Required: the RoleBinding has to name the namespace of
    /// RolloutApi's ServiceAccount, and the Role is scoped to it.
    /// </summary>
    [Required(AllowEmptyStrings = false)]
    [RegularExpression(DnsLabelPattern, ErrorMessage = "Kubernetes:Namespace must be a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters).")]
    public string Namespace { get; set; } = "agentaspire";

    /// <summary>Whether a Namespace object is emitted; turn off when a cluster admin creates namespaces.</summary>
    public bool CreateNamespace { get; set; } = true;

    /// <summary>The Service type of resources with external HTTP endpoints (the gateway).</summary>
    [Required]
    public string GatewayServiceType { get; set; } = ClusterIP;

    /// <summary>Replicas of one agent across its two tracks.</summary>
    [Range(1, 1000)]
    public int AgentReplicas { get; set; } = 10;

    /// <summary>The stable track's part of <see cref="AgentReplicas"/>: with the canary's part, the classic 9:1.</summary>
    [Range(0, 1000)]
    public int StableReplicaRatio { get; set; } = 9;

    /// <summary>The canary track's part of <see cref="AgentReplicas"/>.</summary>
    [Range(0, 1000)]
    public int CanaryReplicaRatio { get; set; } = 1;

    /// <summary>
    /// Where the services send OTLP (traces, metrics, logs): an OpenTelemetry Collector in the cluster by default.
    /// Empty turns OTLP export off; Prometheus can still scrape <c>/metrics</c>.
    /// </summary>
    public string? OtlpEndpoint { get; set; } = "http://otel-collector:4317";

    /// <summary>Size of the volume that holds RolloutApi's SQLite file.</summary>
    [Required]
    public string StorageSize { get; set; } = "1Gi";

    /// <summary>Storage class of that volume; unset, the cluster's default class is used.</summary>
    public string? StorageClassName { get; set; }

    [Required]
    public string CpuRequest { get; set; } = "100m";

    [Required]
    public string CpuLimit { get; set; } = "500m";

    [Required]
    public string MemoryRequest { get; set; } = "128Mi";

    [Required]
    public string MemoryLimit { get; set; } = "256Mi";

    /// <summary>A DNS-1123 label: what Kubernetes accepts as a namespace or Service name.</summary>
    public const string DnsLabelPattern = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (GatewayServiceType is not (ClusterIP or LoadBalancer or NodePort))
        {
            yield return new ValidationResult(
                $"Kubernetes:GatewayServiceType must be {ClusterIP}, {LoadBalancer} or {NodePort}, not '{GatewayServiceType}'.",
                [nameof(GatewayServiceType)]);
        }

        if (StableReplicaRatio + CanaryReplicaRatio == 0)
        {
            yield return new ValidationResult(
                "Kubernetes:StableReplicaRatio and Kubernetes:CanaryReplicaRatio cannot both be 0.",
                [nameof(StableReplicaRatio), nameof(CanaryReplicaRatio)]);
        }
        else if (StableReplicaRatio > 0 && CanaryReplicaRatio > 0 && AgentReplicas < 2)
        {
            yield return new ValidationResult(
                "Kubernetes:AgentReplicas must be at least 2 when both tracks have a share of the replicas.",
                [nameof(AgentReplicas)]);
        }

        foreach (var (name, value) in new[]
        {
            (nameof(StorageSize), StorageSize), (nameof(CpuRequest), CpuRequest), (nameof(CpuLimit), CpuLimit),
            (nameof(MemoryRequest), MemoryRequest), (nameof(MemoryLimit), MemoryLimit),
        })
        {
            if (!IsQuantity(value))
            {
                yield return new ValidationResult($"Kubernetes:{name} '{value}' is not a Kubernetes quantity (e.g. 500m, 256Mi, 1Gi).", [name]);
            }
        }

        if (!string.IsNullOrEmpty(OtlpEndpoint) && !Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out _))
        {
            yield return new ValidationResult($"Kubernetes:OtlpEndpoint '{OtlpEndpoint}' is not an absolute URI.", [nameof(OtlpEndpoint)]);
        }
    }

    /// <summary>
    /// The replica counts of an agent's two tracks: the canary gets its share of <see cref="AgentReplicas"/>
    /// rounded half away from zero, but never 0 while its ratio is non-zero (a track without pods cannot be
    /// analysed) and never all of them while the stable ratio is non-zero; the stable track gets the rest.
    /// </summary>
    public (int Stable, int Canary) SplitAgentReplicas()
    {
        var total = AgentReplicas;
        var share = (double)CanaryReplicaRatio / (StableReplicaRatio + CanaryReplicaRatio);
        var canary = (int)Math.Round(total * share, MidpointRounding.AwayFromZero);
        var minimum = CanaryReplicaRatio > 0 ? 1 : 0;
        var maximum = StableReplicaRatio > 0 ? total - 1 : total;
        canary = Math.Clamp(canary, minimum, Math.Max(minimum, maximum));
        return (total - canary, canary);
    }

    private static bool IsQuantity(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        try
        {
            // ResourceQuantity parses lazily; canonicalising forces the parse and throws on garbage.
            _ = new ResourceQuantity(value).CanonicalizeString();
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
