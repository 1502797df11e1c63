using System.Net;
using AgentAspire.Contracts;
using AgentAspire.TestSupport;
using Gateway.Tests.Support;
using static Gateway.Tests.Service.GatewayHarness;

namespace Gateway.Tests.Service;

/// <summary>
/// Who may force a track with <c>X-Agent-Track</c>, and the canary's refusal after an abort. Who served is the backend's
/// own word (its body), not the gateway's header.
/// </summary>
public sealed class ForcedTrackTests(GatewayHarness harness) : IClassFixture<GatewayHarness>
{
    private const string Token = "forced-track-token-0123456789";
    private const string SmokeClient = "smoke-test-client";

    [Fact]
    public async Task Locally_anyone_may_force_a_track()
    {
        await using var api = await FakeRolloutApi.StartAsync(Tables.For(1, 0, harness.Stable, harness.Canary));
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, api.Address);
        using var client = Client(factory);
        await WaitForRevisionAsync(client, 1);

        Assert.Equal(Tracks.Canary, (await ForceAsync(client, Tracks.Canary)).Body);
    }

    [Fact]
    public async Task In_a_published_deployment_only_the_token_or_a_listed_client_id_may_force_a_track()
    {
        await using var api = await FakeRolloutApi.StartAsync(Tables.For(1, 0, harness.Stable, harness.Canary));
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, api.Address,
            ("Gateway:ForcedTrack:AllowAnonymous", "false"),
            ("Gateway:ForcedTrack:Token", Token),
            ("Gateway:ForcedTrack:ClientIds:0", SmokeClient));
        using var client = Client(factory);
        await WaitForRevisionAsync(client, 1);

        // Weight 0: a request that may not force is routed as if it had not asked, i.e. to stable.
        Assert.Equal(Tracks.Stable, (await ForceAsync(client, Tracks.Canary)).Body);
        Assert.Equal(Tracks.Stable, (await ForceAsync(client, Tracks.Canary, token: "wrong-token-0123456789")).Body);
        Assert.Equal(Tracks.Stable, (await ForceAsync(client, Tracks.Canary, clientId: "someone-else")).Body);
        Assert.Equal(Tracks.Canary, (await ForceAsync(client, Tracks.Canary, token: Token)).Body);
        Assert.Equal(Tracks.Canary, (await ForceAsync(client, Tracks.Canary, clientId: SmokeClient)).Body);
    }

    [Fact]
    public async Task After_an_abort_the_canary_refuses_forced_traffic_until_the_operator_allows_it()
    {
        await using var api = await FakeRolloutApi.StartAsync(Tables.For(1, 5_000, harness.Stable, harness.Canary));
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, api.Address, ("Gateway:ForcedTrack:Token", Token));
        using var client = Client(factory);
        await WaitForRevisionAsync(client, 1);
        Assert.Equal(Tracks.Canary, (await ForceAsync(client, Tracks.Canary, token: Token)).Body);

        // The abort's table: weight 0, forced canary closed.
        await api.PublishAsync(WithForcedCanary(Tables.For(2, 0, harness.Stable, harness.Canary), false));
        await WaitForRevisionAsync(client, 2);
        var hitsBefore = harness.Canary.Served;
        var refused = await ForceAsync(client, Tracks.Canary, token: Token);
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Contains("aborted", refused.Body, StringComparison.Ordinal);
        Assert.Equal(hitsBefore, harness.Canary.Served);
        // Forcing stable is still fine.
        Assert.Equal(Tracks.Stable, (await ForceAsync(client, Tracks.Stable, token: Token)).Body);

        // The operator allows it: the canary takes forced traffic again (and still no split traffic at weight 0).
        await api.PublishAsync(WithForcedCanary(Tables.For(3, 0, harness.Stable, harness.Canary), true));
        await WaitForRevisionAsync(client, 3);
        Assert.Equal(Tracks.Canary, (await ForceAsync(client, Tracks.Canary, token: Token)).Body);
        Assert.Equal(Tracks.Stable, (await SendAsync(client)).Body);
    }

    private static RoutingTable WithForcedCanary(RoutingTable table, bool allowed) =>
        table with { Agents = [.. table.Agents.Select(a => a with { ForcedCanary = allowed })] };

    private static async Task<(HttpStatusCode Status, string Body)> ForceAsync(HttpClient client, string track, string? token = null, string? clientId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/work");
        request.Headers.Add(AgentHeaders.Track, track);
        if (token is not null)
        {
            request.Headers.Add(AgentHeaders.TrackToken, token);
        }

        if (clientId is not null)
        {
            request.Headers.Add(AgentHeaders.ClientId, clientId);
        }

        using var response = await client.SendAsync(request).WaitAsync(RequestDeadline);
        return (response.StatusCode, await response.Content.ReadAsStringAsync().WaitAsync(RequestDeadline));
    }
}
