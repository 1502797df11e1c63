using System.Net;
using AgentAspire.Contracts;
using AgentAspire.TestSupport;
using Gateway.Apis;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging;
using static Gateway.Tests.Service.GatewayHarness;

namespace Gateway.Tests.Service;

/// <summary>The gateway in-process in front of two real backends, following a fake RolloutApi's routing stream.</summary>
public sealed class RoutingServiceTests(GatewayHarness harness) : IClassFixture<GatewayHarness>
{
    [Fact]
    public async Task Cold_start_without_RolloutApi_is_not_ready_until_the_first_table_wait_is_over()
    {
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"));
        using var client = Client(factory);

        // Default wait (30 s): a gateway without RolloutApi's table does not take traffic from a load balancer yet.
        using var health = await client.GetAsync("/health").WaitAsync(RequestDeadline);
        var report = await health.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Contains("Unhealthy", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cold_start_without_RolloutApi_sends_everything_to_stable()
    {
        // Past the first-table wait (here none), the gateway serves on its configured initial weight.
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"),
            ("Gateway:FirstTableWait", "00:00:00"));
        using var client = Client(factory);

        var tracks = new List<string?>();
        for (var i = 0; i < 30; i++)
        {
            var response = await SendAsync(client);
            Assert.Equal(HttpStatusCode.OK, response.Status);
            tracks.Add(response.Track);
        }

        Assert.All(tracks, t => Assert.Equal(Tracks.Stable, t));
        var routing = await RoutingAsync(client);
        Assert.Equal((0L, AppliedRouting.FromConfiguration, 0, false), (routing.Revision, routing.Source, routing.Weight, routing.StreamConnected));
        // Fail static is not a failure of the gateway: it stays ready (the routing-stream check is only degraded).
        using var health = await client.GetAsync("/health").WaitAsync(RequestDeadline);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task A_pushed_table_applies_and_the_response_says_which_track_and_version_served()
    {
        await using var api = await FakeRolloutApi.StartAsync(Tables.For(1, 0, harness.Stable, harness.Canary));
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, api.Address);
        using var client = Client(factory);
        await WaitForRevisionAsync(client, 1);

        var before = await SendAsync(client);
        await api.PublishAsync(Tables.For(2, Weights.Max, harness.Stable, harness.Canary, canaryVersion: "2.0.0"));
        var routing = await WaitForRevisionAsync(client, 2);
        var after = await SendAsync(client);

        Assert.Equal((Tracks.Stable, "1.0.0", Tracks.Stable), (before.Track, before.Version, before.Body));
        Assert.Equal((Weights.Max, AppliedRouting.FromRolloutApi, true), (routing.Weight, routing.Source, routing.StreamConnected));
        Assert.Equal((Tracks.Canary, "2.0.0", Tracks.Canary), (after.Track, after.Version, after.Body));
        // The backend's own identity passes through untouched: the gateway adds X-Gateway-*, it never rewrites X-Agent-*.
        Assert.Equal((Tracks.Canary, AgentStandIn.VersionHeaderValue), (after.AgentTrack, after.AgentVersion));
    }

    [Fact]
    public async Task A_table_that_moves_a_track_to_another_address_reroutes_it()
    {
        await using var moved = await AgentStandIn.StartAsync("canary-moved", Tracks.Canary);
        await using var api = await FakeRolloutApi.StartAsync(Tables.For(1, 0, harness.Stable, harness.Canary));
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, api.Address);
        using var client = Client(factory);
        await WaitForRevisionAsync(client, 1);

        await api.PublishAsync(Tables.For(2, 0, harness.Stable, moved, canaryVersion: "1.2.0"));
        await WaitForRevisionAsync(client, 2);
        // The proxy configuration is rebuilt off the request path; poll until the new destination serves.
        var response = await Poll.UntilAsync(() => SendAsync(client, forcedTrack: "canary"), r => r.Body == "canary-moved", "the moved canary to serve");

        Assert.Equal((Tracks.Canary, "1.2.0"), (response.Track, response.Version));
    }

    [Fact]
    public async Task A_live_weight_splits_unkeyed_traffic_exactly()
    {
        await using var api = await FakeRolloutApi.StartAsync(Tables.For(1, 2_500, harness.Stable, harness.Canary));
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, api.Address);
        using var client = Client(factory);
        await WaitForRevisionAsync(client, 1);

        var canary = 0;
        for (var i = 0; i < 200; i++)
        {
            var response = await SendAsync(client);
            Assert.Equal(HttpStatusCode.OK, response.Status);
            canary += response.Track == Tracks.Canary ? 1 : 0;
        }

        Assert.InRange(canary, 49, 51);
    }

    [Fact]
    public async Task When_RolloutApi_stops_the_last_table_stays_in_force_and_a_restart_brings_changes_again()
    {
        var api = await FakeRolloutApi.StartAsync(Tables.For(1, Weights.Max, harness.Stable, harness.Canary));
        var port = api.Address.Port;
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, api.Address);
        using var client = Client(factory);
        await WaitForRevisionAsync(client, 1);

        await api.DisposeAsync();
        await Poll.UntilAsync(() => RoutingAsync(client), r => !r.StreamConnected, "the gateway to notice the stream is gone");
        var during = new List<string?>();
        for (var i = 0; i < 20; i++)
        {
            during.Add((await SendAsync(client)).Track);
        }

        await using var restarted = await FakeRolloutApi.StartAsync(port, Tables.For(2, 0, harness.Stable, harness.Canary));
        await WaitForRevisionAsync(client, 2);
        var after = await SendAsync(client);

        Assert.All(during, t => Assert.Equal(Tracks.Canary, t));
        Assert.Equal(Tracks.Stable, after.Track);
        Assert.True(restarted.Connections >= 1);
    }

    [Fact]
    public async Task An_outage_is_logged_once_when_it_starts_and_once_when_it_ends_not_per_retry()
    {
        await using var api = await FakeRolloutApi.StartAsync(Tables.For(1, 1_000, harness.Stable, harness.Canary));
        api.Refuse = true;
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, api.Address);
        using var client = Client(factory);

        await Poll.UntilAsync(() => Task.FromResult(api.Refused), n => n >= 5, "five failed attempts");
        var downLogs = factory.Logs.Count(LogLevel.Warning, "unavailable");
        api.Refuse = false;
        await WaitForRevisionAsync(client, 1);
        await Poll.UntilAsync(() => Task.FromResult(factory.Logs.Count(LogLevel.Information, "restored")), n => n >= 1, "the recovery log");

        Assert.Equal(1, downLogs);
        Assert.Equal(1, factory.Logs.Count(LogLevel.Warning, "unavailable"));
        Assert.Equal(1, factory.Logs.Count(LogLevel.Information, "restored"));
    }

    [Fact]
    public async Task A_silent_stream_is_dropped_and_reopened_without_losing_the_table()
    {
        await using var api = await FakeRolloutApi.StartAsync(Tables.For(1, Weights.Max, harness.Stable, harness.Canary));
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, api.Address, ("Gateway:StreamIdleTimeout", "00:00:00.500"));
        using var client = Client(factory);
        await WaitForRevisionAsync(client, 1);
        var connections = api.Connections;
        // (A first connection slower than the idle timeout on a busy machine is an outage, legitimately; count from here.)
        var outagesBefore = factory.Logs.Count(LogLevel.Warning, "unavailable");

        await Poll.UntilAsync(() => Task.FromResult(api.Connections), n => n >= connections + 2, "reconnections after idle cuts");
        var response = await SendAsync(client);

        Assert.Equal(Tracks.Canary, response.Track);
        // An idle cut followed by a good reconnect is not an outage.
        Assert.Equal(outagesBefore, factory.Logs.Count(LogLevel.Warning, "unavailable"));
    }

    [Fact]
    public async Task The_stream_is_read_with_the_viewer_key()
    {
        await using var api = await FakeRolloutApi.StartAsync(Tables.For(1, Weights.Max, harness.Stable, harness.Canary));
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, api.Address, ("Gateway:ApiKey", "wrong-key"));
        using var client = Client(factory);

        await Poll.UntilAsync(() => Task.FromResult(api.Rejected), n => n >= 2, "the gateway to retry after a 401");
        var routing = await RoutingAsync(client);

        Assert.Equal(0, routing.Revision);
        Assert.Equal(0, api.Connections);
    }

    [Fact]
    public async Task A_header_forces_a_track_and_a_forced_track_does_not_fall_back()
    {
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"),
            ("Gateway:Canary:Destination", $"http://127.0.0.1:{ClosedPort()}"));
        using var client = Client(factory);
        await using var working = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"));
        using var workingClient = Client(working);

        var forcedCanary = await SendAsync(workingClient, forcedTrack: "canary");
        var forcedStable = await SendAsync(workingClient, forcedTrack: "Stable");
        var deadCanary = await SendAsync(client, forcedTrack: "canary");

        Assert.Equal((HttpStatusCode.OK, Tracks.Canary, "1.1.0", Tracks.Canary), (forcedCanary.Status, forcedCanary.Track, forcedCanary.Version, forcedCanary.Body));
        Assert.Equal((Tracks.Stable, Tracks.Stable), (forcedStable.Track, forcedStable.Body));
        Assert.Equal(HttpStatusCode.BadGateway, deadCanary.Status);
        Assert.Equal((Tracks.Canary, "1.1.0"), (deadCanary.Track, deadCanary.Version));
    }

    [Fact]
    public async Task Keyed_clients_stick_and_unkeyed_ones_get_a_cookie_that_keeps_them_where_they_landed()
    {
        await using var api = await FakeRolloutApi.StartAsync(Tables.For(1, 5_000, harness.Stable, harness.Canary));
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, api.Address);
        using var client = Client(factory);
        await WaitForRevisionAsync(client, 1);

        foreach (var key in new[] { "client-a", "client-b", "client-c", "client-d" })
        {
            var first = await SendAsync(client, clientId: key);
            var again = await SendAsync(client, clientId: key);
            var viaCookie = await SendAsync(client, cookie: key);
            Assert.Equal(first.Track, again.Track);
            Assert.Equal(first.Track, viaCookie.Track);
        }

        for (var i = 0; i < 10; i++)
        {
            using var response = await client.GetAsync("/work").WaitAsync(RequestDeadline);
            var landed = Header(response, AgentHeaders.Track);
            var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
            var key = Routing.ClientBucketsTests.KeyOf(setCookie);

            var next = await SendAsync(client, cookie: key);

            Assert.Equal(landed, next.Track);
        }

        using var keyed = new HttpRequestMessage(HttpMethod.Get, "/work");
        keyed.Headers.Add(AgentHeaders.ClientId, "client-a");
        using var keyedResponse = await client.SendAsync(keyed).WaitAsync(RequestDeadline);
        Assert.False(keyedResponse.Headers.Contains("Set-Cookie"));
    }
}
