using System.Diagnostics;
using System.Net.Http.Json;
using System.Net;
using System.Text.Json;
using AgentAspire.Contracts;
using AgentAspire.TestSupport;
using Gateway.Apis;
using Gateway.Identity;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging;
using static Gateway.Tests.Service.GatewayHarness;

namespace Gateway.Tests.Service;

/// <summary>
/// The gateway checks who answered — the identity the backend itself stamped — against the track it chose. With both
/// tracks pointed at one process, canary traffic is answered by stable: that must show as mismatches, a log line and a
/// Degraded readiness, within a second; never as "canary served" on the gateway's word.
/// </summary>
public sealed class ServedByTests(GatewayHarness harness) : IClassFixture<GatewayHarness>
{
    private static readonly TimeSpan WithinASecond = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Both_tracks_on_one_process_show_as_mismatches_and_a_degraded_gateway_within_a_second()
    {
        // Both tracks resolve to the stable process: the failure this check exists for. (A live routing stream, so
        // that readiness has no other reason to be Degraded.)
        await using var api = await FakeRolloutApi.StartAsync(Tables.For(1, 0, harness.Stable, harness.Stable));
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Stable, api.Address);
        using var client = Client(factory);
        await WaitForRevisionAsync(client, 1);
        Assert.Equal(0, (await StatsAsync(client)).GetProperty("identityMismatches").GetProperty("total").GetInt64());
        Assert.Equal("Healthy", await HealthAsync(client));

        var clock = Stopwatch.StartNew();
        var responses = new List<(HttpStatusCode Status, string? Track, string? Version, string Body, string? AgentTrack, string? AgentVersion)>();
        for (var i = 0; i < 5; i++)
        {
            responses.Add(await SendAsync(client, forcedTrack: Tracks.Canary));
        }

        var health = await HealthAsync(client);
        var stats = (await StatsAsync(client)).GetProperty("identityMismatches");
        clock.Stop();

        // The gateway's choice and the agent's word disagree, and the gateway passed the agent's word through.
        Assert.All(responses, r => Assert.Equal((HttpStatusCode.OK, Tracks.Canary, Tracks.Stable), (r.Status, r.Track, r.AgentTrack)));
        Assert.True(clock.Elapsed < WithinASecond, $"took {clock.Elapsed}");
        Assert.Equal("Degraded", health);
        Assert.Equal(5, stats.GetProperty("total").GetInt64());
        Assert.Equal(0, stats.GetProperty("missing").GetInt64());
        var pair = Assert.Single(stats.GetProperty("byTrack").EnumerateArray());
        Assert.Equal((Tracks.Canary, Tracks.Stable, 5L),
            (pair.GetProperty("expected").GetString(), pair.GetProperty("actual").GetString(), pair.GetProperty("count").GetInt64()));

        // Logged once for the burst, not once per response.
        Assert.Equal(1, factory.Logs.Count(LogLevel.Warning, "does not reach the process it names"));

        var metrics = await Poll.UntilAsync(() => client.GetStringAsync("/metrics"),
            t => t.Contains("gateway_identity_mismatches_total", StringComparison.Ordinal), "the mismatch metric");
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("gateway_identity_mismatches_total{", StringComparison.Ordinal)
            && l.Contains("expected=\"canary\"", StringComparison.Ordinal)
            && l.Contains("actual=\"stable\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Correct_routing_counts_no_mismatch_and_stays_healthy()
    {
        await using var api = await FakeRolloutApi.StartAsync(Tables.For(1, 5_000, harness.Stable, harness.Canary));
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, api.Address);
        using var client = Client(factory);
        await WaitForRevisionAsync(client, 1);

        for (var i = 0; i < 20; i++)
        {
            var response = await SendAsync(client);
            Assert.Equal(HttpStatusCode.OK, response.Status);
            Assert.Equal(response.Track, response.AgentTrack);
        }

        Assert.Equal(0, (await StatsAsync(client)).GetProperty("identityMismatches").GetProperty("total").GetInt64());
        Assert.Equal("Healthy", await HealthAsync(client));
    }

    [Fact]
    public async Task A_response_without_identity_counts_as_missing()
    {
        await using var anonymous = await AgentStandIn.StartAsync("anonymous", stampIdentity: false);
        await using var api = await FakeRolloutApi.StartAsync(Tables.For(1, 0, anonymous, harness.Canary));
        await using var factory = GatewayFactory.Create(anonymous, harness.Canary, api.Address);
        using var client = Client(factory);
        await WaitForRevisionAsync(client, 1);
        Assert.Equal("Healthy", await HealthAsync(client));

        var response = await SendAsync(client);

        var stats = (await StatsAsync(client)).GetProperty("identityMismatches");
        Assert.Equal((HttpStatusCode.OK, Tracks.Stable, (string?)null), (response.Status, response.Track, response.AgentTrack));
        Assert.Equal((1L, 1L, ServedByCheck.Missing), (stats.GetProperty("total").GetInt64(), stats.GetProperty("missing").GetInt64(),
            stats.GetProperty("lastActual").GetString()));
        Assert.Equal("Degraded", await HealthAsync(client));
    }

    [Fact]
    public async Task A_transport_failure_is_not_an_identity_mismatch()
    {
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"),
            ("Gateway:Canary:Destination", $"http://127.0.0.1:{ClosedPort()}"));
        using var client = Client(factory);

        var response = await SendAsync(client, forcedTrack: Tracks.Canary);

        Assert.Equal((HttpStatusCode.BadGateway, Tracks.Canary, (string?)null), (response.Status, response.Track, response.AgentTrack));
        Assert.Equal(0, (await StatsAsync(client)).GetProperty("identityMismatches").GetProperty("total").GetInt64());
    }

    private static async Task<JsonElement> StatsAsync(HttpClient client) =>
        await client.GetFromJsonAsync<JsonElement>(GatewayApi.StatsPath).WaitAsync(RequestDeadline);

    private static async Task<string> HealthAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/health").WaitAsync(RequestDeadline);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }
}
