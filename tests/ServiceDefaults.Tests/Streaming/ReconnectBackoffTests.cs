using ServiceDefaults.Streaming;

namespace ServiceDefaults.Tests.Streaming;

public sealed class ReconnectBackoffTests
{
    private static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(3);

    [Fact]
    public void Delays_double_with_jitter_between_half_the_step_and_the_step_up_to_the_cap()
    {
        var backoff = new ReconnectBackoff(Initial, Max, new Random(42));
        var distinct = new HashSet<TimeSpan>();

        for (var attempt = 0; attempt < 12; attempt++)
        {
            var step = TimeSpan.FromTicks(Math.Min(Max.Ticks, Initial.Ticks << attempt));
            var delay = backoff.Next();
            Assert.InRange(delay, step / 2, step);
            distinct.Add(delay);
        }

        Assert.True(distinct.Count > 6, "jitter spreads the delays");
    }

    [Fact]
    public void Reset_starts_over_from_the_first_delay()
    {
        var backoff = new ReconnectBackoff(Initial, Max, new Random(7));
        for (var i = 0; i < 8; i++)
        {
            backoff.Next();
        }

        backoff.Reset();

        Assert.InRange(backoff.Next(), Initial / 2, Initial);
    }

    [Fact]
    public void Agents_with_different_seeds_spread_their_reconnects()
    {
        var delays = Enumerable.Range(0, 20).Select(seed => new ReconnectBackoff(Initial, Max, new Random(seed)).Next()).ToHashSet();

        Assert.True(delays.Count > 15);
    }

    [Fact]
    public void Two_clients_with_different_randomness_do_not_reconnect_in_lockstep()
    {
        var a = new ReconnectBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), new Random(1));
        var b = new ReconnectBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), new Random(2));

        Assert.NotEqual(Enumerable.Range(0, 5).Select(_ => a.Next()), Enumerable.Range(0, 5).Select(_ => b.Next()));
    }
}
