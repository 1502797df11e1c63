using k8s.Models;

namespace AppHost.Kubernetes.Manifests;

/// <summary>Voluntary disruptions (node drains) take agent pods one at a time, whatever a track's size.</summary>
public static class DisruptionBudgetManifests
{
    public static V1PodDisruptionBudget Build(ServicePlan plan) =>
        ManifestObjects.New<V1PodDisruptionBudget>(o =>
        {
            o.Metadata = plan.Metadata();
            o.Spec = new V1PodDisruptionBudgetSpec
            {
                MaxUnavailable = 1,
                Selector = new V1LabelSelector { MatchLabels = plan.Selector },
            };
        });
}
