using RolloutApi.Drivers.Kubernetes;

namespace RolloutApi.Tests.Drivers.Kubernetes;

/// <summary>The replica-ratio rounding: canary = ⌈total × w / 10000⌉, at least 1 for w &gt; 0, stable at least 1 below 10000.</summary>
public sealed class ReplicaSplitTests
{
    [Theory]
    [InlineData(10, 0, 10, 0)]
    [InlineData(10, 1, 9, 1)] // 0.01%: any non-zero weight gets a pod
    [InlineData(10, 999, 9, 1)]
    [InlineData(10, 1000, 9, 1)] // exact: 10% of 10
    [InlineData(10, 1001, 8, 2)] // just above a multiple rounds up
    [InlineData(10, 2500, 7, 3)] // 2.5 → 3
    [InlineData(10, 5000, 5, 5)]
    [InlineData(10, 9000, 1, 9)]
    [InlineData(10, 9001, 1, 9)] // ⌈9.001⌉ = 10, but the stable track keeps one below full weight
    [InlineData(10, 9999, 1, 9)]
    [InlineData(10, 10000, 0, 10)]
    [InlineData(2, 1, 1, 1)]
    [InlineData(2, 5000, 1, 1)]
    [InlineData(2, 10000, 0, 2)]
    [InlineData(3, 3334, 1, 2)] // ⌈1.0002⌉ = 2
    [InlineData(3, 3333, 2, 1)] // ⌈0.9999⌉ = 1
    [InlineData(1000, 1, 999, 1)]
    [InlineData(1000, 5, 999, 1)]
    [InlineData(1000, 15, 998, 2)]
    public void Splits_the_total_by_weight(int total, int weight, int stable, int canary)
    {
        var split = ReplicaSplit.For(weight, total);

        Assert.Equal((stable, canary), (split.Stable, split.Canary));
    }

    [Fact]
    public void Every_split_keeps_the_total_and_stays_within_one_replica_of_the_weight()
    {
        foreach (var total in new[] { 2, 3, 7, 10, 25 })
        {
            for (var weight = 0; weight <= ReplicaSplit.MaxWeight; weight += 7)
            {
                var split = ReplicaSplit.For(weight, total);
                var exact = total * weight / (double)ReplicaSplit.MaxWeight;
                Assert.Equal(total, split.Stable + split.Canary);
                Assert.InRange(split.Canary - exact, -1.0, 1.0);
                Assert.True(weight == 0 || split.Canary >= 1, $"total {total}, weight {weight}: no canary pod");
            }
        }
    }

    [Theory]
    [InlineData(-1, 10)]
    [InlineData(10001, 10)]
    [InlineData(5000, 1)]
    public void Refuses_weights_and_totals_out_of_range(int weight, int total) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ReplicaSplit.For(weight, total));
}
