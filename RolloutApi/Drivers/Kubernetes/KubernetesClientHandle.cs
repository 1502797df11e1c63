using k8s;

namespace RolloutApi.Drivers.Kubernetes;

/// <summary>
/// Hands the driver its <see cref="IKubernetes"/> client on first use rather than at construction: every registered driver
/// is constructed when the configured one is chosen, and a missing kubeconfig must not stop RolloutApi from starting
/// with the local driver.
/// </summary>
internal sealed class KubernetesClientHandle(Func<IKubernetes> resolve)
{
    public IKubernetes Client => resolve();
}
