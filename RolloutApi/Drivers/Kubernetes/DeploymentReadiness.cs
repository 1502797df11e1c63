using k8s.Models;

namespace RolloutApi.Drivers.Kubernetes;

/// <summary>
/// Whether a Deployment runs a given generation on all its replicas, judged as <c>kubectl rollout status</c> judges it:
/// the controller has observed the generation, every replica is updated and available, no old replica is left and the
/// <c>Available</c> condition holds. <see cref="Reason"/> says what is still missing, for logs and timeout messages.
/// </summary>
internal readonly record struct DeploymentReadiness(DeploymentReadinessState State, string Reason)
{
    public bool IsAvailable => State == DeploymentReadinessState.Available;

    public bool HasFailed => State == DeploymentReadinessState.Failed;

    /// <summary>Judges <paramref name="deployment"/> against the generation a patch produced (later generations count too).</summary>
    public static DeploymentReadiness Evaluate(V1Deployment deployment, long generation)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var status = deployment.Status;
        var desired = deployment.Spec?.Replicas ?? 1;
        var observed = status?.ObservedGeneration ?? 0;
        if (observed < generation)
        {
            return Waiting($"observedGeneration {observed} < generation {generation} (the deployment controller has not processed the change yet)");
        }

        var progressing = Condition(deployment, "Progressing");
        if (progressing is { Status: "False", Reason: "ProgressDeadlineExceeded" })
        {
            return new DeploymentReadiness(DeploymentReadinessState.Failed, $"progress deadline exceeded: {progressing.Message}");
        }

        var updated = status?.UpdatedReplicas ?? 0;
        if (updated < desired)
        {
            return Waiting($"updatedReplicas {updated}/{desired}");
        }

        var total = status?.Replicas ?? 0;
        if (total > updated)
        {
            return Waiting($"{total - updated} old replica(s) pending termination");
        }

        var available = status?.AvailableReplicas ?? 0;
        if (available < desired)
        {
            return Waiting($"availableReplicas {available}/{desired}");
        }

        // With no replicas there is nothing to be available; Kubernetes reports the condition True then anyway.
        var availableCondition = Condition(deployment, "Available");
        if (desired > 0 && availableCondition?.Status != "True")
        {
            var why = availableCondition is null ? "missing" : $"{availableCondition.Status} ({availableCondition.Reason}: {availableCondition.Message})";
            return Waiting($"condition Available is {why}");
        }

        return new DeploymentReadiness(DeploymentReadinessState.Available, $"{available}/{desired} replicas available at generation {observed}");
    }

    private static DeploymentReadiness Waiting(string reason) => new(DeploymentReadinessState.Waiting, reason);

    private static V1DeploymentCondition? Condition(V1Deployment deployment, string type) =>
        deployment.Status?.Conditions?.FirstOrDefault(c => string.Equals(c.Type, type, StringComparison.Ordinal));
}

/// <summary>Where a Deployment's rollout stands.</summary>
internal enum DeploymentReadinessState
{
    Waiting,
    Available,

    /// <summary>The controller gave up (<c>ProgressDeadlineExceeded</c>): waiting longer will not help.</summary>
    Failed,
}
