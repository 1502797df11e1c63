using AgentAspire.Contracts;
using Gateway.Routing;

namespace Gateway.Tests.Routing;

public sealed class TrackSelectorTests
{
    private const int Requests = 20_000;
    private const double TolerancePercentagePoints = 0.2;

    [Theory]
    [InlineData(100)]   // 1%
    [InlineData(1_000)] // 10%
    [InlineData(5_000)] // 50%
    [InlineData(1)]     // 0.01%
    [InlineData(3_333)]
    public void Unkeyed_requests_follow_the_weight_within_a_fifth_of_a_point_over_20000(int weight)
    {
        var selector = new TrackSelector();
        // Start at a seeded, arbitrary phase of the split: exactness must not depend on where the counter stands.
        var seeded = new Random(20_240_601 + weight);
        AdvanceSequence(selector, weight, seeded.Next(0, 50_000));

        var canary = 0;
        for (var i = 0; i < Requests; i++)
        {
            if (selector.Select(Snapshots.WithWeight(weight), forced: null, clientKey: default).Track == Track.Canary)
            {
                canary++;
            }
        }

        var sharePercent = 100.0 * canary / Requests;
        var expectedPercent = weight / 100.0;
        Assert.InRange(sharePercent, expectedPercent - TolerancePercentagePoints, expectedPercent + TolerancePercentagePoints);
        // The low-discrepancy split is better than the requirement: within one request of the exact count.
        Assert.InRange(canary, (Requests * weight / Weights.Max) - 1, (Requests * weight / Weights.Max) + 1);
    }

    [Fact]
    public void Every_prefix_of_the_split_is_within_one_request_of_the_weight()
    {
        var selector = new TrackSelector();
        const int weight = 1_000;
        var canary = 0;
        for (var n = 1; n <= 5_000; n++)
        {
            if (selector.NextIsCanary(weight))
            {
                canary++;
            }

            Assert.InRange(canary - (n * (double)weight / Weights.Max), -1, 1);
        }
    }

    [Fact]
    public async Task The_split_stays_exact_when_threads_race_for_it()
    {
        var selector = new TrackSelector();
        const int weight = 1_000;
        const int threads = 4;
        var counts = new int[threads];

        await Task.WhenAll(Enumerable.Range(0, threads).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < Requests / threads; i++)
            {
                if (selector.NextIsCanary(weight))
                {
                    counts[t]++;
                }
            }
        }))).WaitAsync(TimeSpan.FromSeconds(30));

        // Each request takes a unique sequence number, so interleaving cannot change the total.
        Assert.Equal(Requests * weight / Weights.Max, counts.Sum());
    }

    [Theory]
    [InlineData(0, Track.Stable)]
    [InlineData(10_000, Track.Canary)]
    public void The_extreme_weights_send_every_unkeyed_request_to_one_track(int weight, Track expected)
    {
        var selector = new TrackSelector();

        var tracks = Enumerable.Range(0, 1_000).Select(_ => selector.Select(Snapshots.WithWeight(weight), null, default).Track).Distinct();

        Assert.Equal([expected], tracks);
    }

    [Fact]
    public void A_rising_weight_only_moves_keyed_clients_from_stable_to_canary()
    {
        var selector = new TrackSelector();
        var keys = SeededKeys(10_000, seed: 7);
        int[] weights = [0, 1, 10, 100, 500, 1_000, 2_500, 5_000, 7_500, 9_999, 10_000];
        var onCanary = new bool[keys.Length];

        foreach (var weight in weights)
        {
            var canary = 0;
            for (var i = 0; i < keys.Length; i++)
            {
                var isCanary = selector.Select(Snapshots.WithWeight(weight), null, keys[i]).Track == Track.Canary;
                Assert.False(onCanary[i] && !isCanary, $"key {keys[i]} moved back to stable when the weight rose to {weight}");
                onCanary[i] = isCanary;
                canary += isCanary ? 1 : 0;
            }

            // The buckets are uniform: the share of clients tracks the weight (10,000 keys: well within 2 points).
            Assert.InRange(100.0 * canary / keys.Length, (weight / 100.0) - 2, (weight / 100.0) + 2);
        }

        Assert.All(onCanary, Assert.True);
    }

    [Fact]
    public void The_same_key_always_gets_the_same_track()
    {
        var selector = new TrackSelector();
        foreach (var key in SeededKeys(500, seed: 11))
        {
            var first = selector.Select(Snapshots.WithWeight(3_000), null, key).Track;
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(first, selector.Select(Snapshots.WithWeight(3_000), null, key).Track);
            }
        }
    }

    [Theory]
    [InlineData(Track.Canary, 0)]
    [InlineData(Track.Stable, 10_000)]
    public void A_forced_track_wins_over_weight_and_key(Track forced, int weight)
    {
        var selector = new TrackSelector();

        var decision = selector.Select(Snapshots.WithWeight(weight), forced, "some-client");

        Assert.Equal(new TrackDecision(forced, TrackReason.Forced), decision);
    }

    [Theory]
    [InlineData("canary", true, Track.Canary)]
    [InlineData("CANARY", true, Track.Canary)]
    [InlineData("stable", true, Track.Stable)]
    [InlineData("blue", false, Track.Stable)]
    [InlineData("", false, Track.Stable)]
    public void Track_names_parse_case_insensitively_and_nothing_else_is_a_track(string value, bool parsed, Track expected)
    {
        Assert.Equal(parsed, TrackNames.TryParse(value, out var track));
        Assert.Equal(expected, track);
    }

    private static void AdvanceSequence(TrackSelector selector, int weight, int count)
    {
        for (var i = 0; i < count; i++)
        {
            selector.NextIsCanary(weight);
        }
    }

    internal static string[] SeededKeys(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Convert.ToHexString(BitConverter.GetBytes(random.NextInt64()))).ToArray();
    }
}
