using k8s.Models;
using RolloutApi.Drivers.Kubernetes;

namespace RolloutApi.Tests.Drivers.Kubernetes;

/// <summary>When a Deployment counts as available for a generation, judged as <c>kubectl rollout status</c> judges it.</summary>
public sealed class DeploymentReadinessTests
{
    [Fact]
    public void A_completed_rollout_of_the_generation_is_available()
    {
        var readiness = DeploymentReadiness.Evaluate(Deployment(generation: 4, replicas: 3, Complete(4, 3)), generation: 4);

        Assert.True(readiness.IsAvailable, readiness.Reason);
    }

    [Fact]
    public void A_later_generation_also_counts()
    {
        Assert.True(DeploymentReadiness.Evaluate(Deployment(5, 3, Complete(5, 3)), generation: 4).IsAvailable);
    }

    [Theory]
    [InlineData(3, 3, 3, 3, "True", "observedGeneration 3 < generation 4")]
    [InlineData(4, 3, 2, 3, "True", "updatedReplicas 2/3")]
    [InlineData(4, 4, 3, 3, "True", "1 old replica(s) pending termination")]
    [InlineData(4, 3, 3, 2, "True", "availableReplicas 2/3")]
    [InlineData(4, 3, 3, 3, "False", "condition Available is False")]
    public void An_incomplete_rollout_says_what_is_missing(long observed, int total, int updated, int available, string availableCondition, string reason)
    {
        var status = new V1DeploymentStatus
        {
            ObservedGeneration = observed,
            Replicas = total,
            UpdatedReplicas = updated,
            AvailableReplicas = available,
            Conditions = [new V1DeploymentCondition { Type = "Available", Status = availableCondition, Reason = "MinimumReplicasUnavailable" }],
        };

        var readiness = DeploymentReadiness.Evaluate(Deployment(4, 3, status), generation: 4);

        Assert.Equal(DeploymentReadinessState.Waiting, readiness.State);
        Assert.StartsWith(reason, readiness.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_Available_condition_is_not_available()
    {
        var status = Complete(4, 3);
        status.Conditions = [];

        Assert.Equal("condition Available is missing", DeploymentReadiness.Evaluate(Deployment(4, 3, status), 4).Reason);
    }

    [Fact]
    public void Zero_replicas_are_available_once_observed()
    {
        var status = new V1DeploymentStatus { ObservedGeneration = 4 };

        Assert.True(DeploymentReadiness.Evaluate(Deployment(4, 0, status), 4).IsAvailable);
        Assert.False(DeploymentReadiness.Evaluate(Deployment(4, 0, new V1DeploymentStatus { ObservedGeneration = 3 }), 4).IsAvailable);
    }

    [Fact]
    public void An_exceeded_progress_deadline_is_a_failure()
    {
        var status = new V1DeploymentStatus
        {
            ObservedGeneration = 4,
            Replicas = 3,
            UpdatedReplicas = 1,
            Conditions = [new V1DeploymentCondition { Type = "Progressing", Status = "False", Reason = "ProgressDeadlineExceeded", Message = "timed out" }],
        };

        var readiness = DeploymentReadiness.Evaluate(Deployment(4, 3, status), 4);

        Assert.True(readiness.HasFailed);
        Assert.Equal("progress deadline exceeded: timed out", readiness.Reason);
    }

    private static V1Deployment Deployment(long generation, int replicas, V1DeploymentStatus status) => new()
    {
        Metadata = new V1ObjectMeta { Name = "agent-canary", Generation = generation },
        Spec = new V1DeploymentSpec { Replicas = replicas },
        Status = status,
    };

    private static V1DeploymentStatus Complete(long generation, int replicas) => new()
    {
        ObservedGeneration = generation,
        Replicas = replicas,
        UpdatedReplicas = replicas,
        AvailableReplicas = replicas,
        Conditions = [new V1DeploymentCondition { Type = "Available", Status = "True" }],
    };
}
