using AgentAspire.Contracts;
using Gateway.Routing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Routing;

public sealed class RoutingStateTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void Before_any_table_the_configuration_applies()
    {
        var state = Create(initialWeight: 250);

        var current = state.Current;

        Assert.Equal(0, current.Revision);
        Assert.Equal(250, current.Weight);
        Assert.Equal(RoutingSource.Configuration, current.Source);
        Assert.Equal("1.0.0", current.Stable.Version);
        Assert.Equal("http://agent-canary", current.Canary.Destination);
    }

    [Fact]
    public void A_newer_table_replaces_the_snapshot_and_leaves_the_old_one_untouched()
    {
        var state = Create();
        var before = state.Current;

        Assert.True(state.TryApply(Table(revision: 3, weight: 1_500, canaryVersion: "2.0.0"), out var applied));

        Assert.Same(applied, state.Current);
        Assert.Equal((3L, 1_500, "2.0.0", RoutingSource.RolloutApi), (applied.Revision, applied.Weight, applied.Canary.Version, applied.Source));
        Assert.Equal((0L, 0, "1.1.0"), (before.Revision, before.Weight, before.Canary.Version));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(4)]
    public void An_older_or_repeated_revision_is_ignored(long revision)
    {
        var state = Create();
        state.TryApply(Table(5, 1_000), out var applied);

        Assert.False(state.TryApply(Table(revision, 9_000), out var kept));

        Assert.Same(applied, kept);
        Assert.Equal(1_000, state.Current.Weight);
    }

    [Fact]
    public void A_table_without_this_agent_advances_the_revision_but_keeps_the_weights()
    {
        var state = Create();
        state.TryApply(Table(1, 700), out _);

        var other = new RoutingTable(2, [new AgentRoute("other-agent", 9_000, new TrackRoute("http://a", "9"), new TrackRoute("http://b", "9"), 2)]);
        Assert.True(state.TryApply(other, out var applied));

        Assert.Equal((2L, 700, "1.0.0"), (applied.Revision, applied.Weight, applied.Stable.Version));
    }

    [Fact]
    public void Malformed_fields_keep_what_is_in_force_and_weights_are_clamped()
    {
        var state = Create();
        var table = new RoutingTable(4, [new AgentRoute("agent-worker", 12_000, new TrackRoute("not a url", ""), new TrackRoute("http://agent-canary-2", "3.0.0"), 4)]);

        state.TryApply(table, out var applied);

        Assert.Equal(Weights.Max, applied.Weight);
        Assert.Equal(("http://agent-stable", "1.0.0"), (applied.Stable.Destination, applied.Stable.Version));
        Assert.Equal(("http://agent-canary-2", "3.0.0"), (applied.Canary.Destination, applied.Canary.Version));
    }

    [Fact]
    public async Task Readers_never_see_a_weight_from_one_table_with_a_version_from_another()
    {
        var state = Create();
        using var stop = new CancellationTokenSource();
        var torn = 0;
        var reads = 0L;
        using var started = new CountdownEvent(2);

        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var s = state.Current;
                // Every table below pairs weight w with canary version "v{w}".
                if (s.Revision > 0 && s.Canary.Version != $"v{s.Weight}")
                {
                    Interlocked.Increment(ref torn);
                }

                if (Interlocked.Increment(ref reads) <= 2)
                {
                    started.Signal();
                }
            }
        })).ToArray();

        Assert.True(started.Wait(TimeSpan.FromSeconds(30)), "readers did not start");
        for (var revision = 1; revision <= 20_000; revision++)
        {
            var weight = revision % Weights.Max;
            state.TryApply(Table(revision, weight, canaryVersion: $"v{weight}"), out _);
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, torn);
        Assert.True(Interlocked.Read(ref reads) > 0);
        Assert.Equal(20_000, state.Current.Revision);
    }

    private RoutingState Create(int initialWeight = 0) => new(
        Options.Create(new GatewayOptions
        {
            InitialWeight = initialWeight,
            Stable = new TrackOptions { Destination = "http://agent-stable", Version = "1.0.0" },
            Canary = new TrackOptions { Destination = "http://agent-canary", Version = "1.1.0" },
        }),
        _time,
        NullLogger<RoutingState>.Instance);

    private static RoutingTable Table(long revision, int weight, string canaryVersion = "1.1.0") =>
        new(revision, [new AgentRoute("agent-worker", weight, new TrackRoute("http://agent-stable", "1.0.0"), new TrackRoute("http://agent-canary", canaryVersion), revision)]);
}
