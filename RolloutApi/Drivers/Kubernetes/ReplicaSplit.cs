namespace RolloutApi.Drivers.Kubernetes;

/// <summary>
/// The replica counts of an agent's two tracks for a weight, in <see cref="KubernetesTrackMode.ReplicaRatio"/> mode: the
/// classic Kubernetes canary, where each track's share of the pods is its share of the work.
/// </summary>
/// <remarks>
/// Rounding, for <c>total</c> replicas and weight <c>w</c> in basis points:
/// <list type="bullet">
/// <item><c>w = 0</c>: canary 0, stable <c>total</c>.</item>
/// <item><c>0 &lt; w &lt; 10000</c>: canary = ⌈total × w / 10000⌉, at least 1 and at most <c>total − 1</c>; stable gets the rest.</item>
/// <item><c>w = 10000</c>: canary <c>total</c>, stable 0.</item>
/// </list>
/// Ceiling, as Argo Rollouts rounds its basic canary: any non-zero weight gets a pod, because a canary without pods does
/// no work and cannot be analysed, so the step would be a lie. The stable track keeps one pod until the canary has all the
/// weight, so an abort always finds a stable track still working. The price: with few replicas, small weights
/// over-represent the canary (1% of 10 replicas is 1 pod, 10% of the work); the share is exact only when
/// <c>total × w / 10000</c> is an integer, and otherwise off by less than one replica.
/// </remarks>
internal readonly record struct ReplicaSplit(int Stable, int Canary)
{
    public const int MaxWeight = 10_000;

    public static ReplicaSplit For(int weight, int total)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(weight);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(weight, MaxWeight);
        ArgumentOutOfRangeException.ThrowIfLessThan(total, 2);

        if (weight == 0)
        {
            return new ReplicaSplit(total, 0);
        }

        if (weight == MaxWeight)
        {
            return new ReplicaSplit(0, total);
        }

        // Integer ceiling: no floating-point error at the exact multiples (e.g. 10 × 1000 / 10000 is exactly 1).
        var canary = (int)(((long)total * weight + MaxWeight - 1) / MaxWeight);
        canary = Math.Clamp(canary, 1, total - 1);
        return new ReplicaSplit(total - canary, canary);
    }
}
