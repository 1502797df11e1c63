using Gateway.Stream;

namespace Gateway.Tests.Stream;

public sealed class ReconnectBackoffTests
{
    [Fact]
    public void Delays_double_up_to_the_ceiling_with_jitter_in_the_upper_half()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2), new Random(3));
        double[] ceilingsMs = [100, 200, 400, 800, 1_600, 2_000, 2_000];

        foreach (var ceiling in ceilingsMs)
        {
            Assert.InRange(backoff.Next().TotalMilliseconds, (ceiling / 2) - 0.01, ceiling + 0.01);
        }
    }

    [Fact]
    public void Reset_starts_again_from_the_smallest_delay()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10), new Random(5));
        for (var i = 0; i < 6; i++)
        {
            backoff.Next();
        }

        backoff.Reset();

        Assert.InRange(backoff.Next().TotalMilliseconds, 50, 100);
    }

    [Fact]
    public void Two_gateways_with_different_randomness_do_not_reconnect_in_lockstep()
    {
        var a = new ReconnectBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), new Random(1));
        var b = new ReconnectBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), new Random(2));

        Assert.NotEqual(Enumerable.Range(0, 5).Select(_ => a.Next()), Enumerable.Range(0, 5).Select(_ => b.Next()));
    }
}
