using System.Net;
using System.Net.Http.Json;
using AgentAspire.Contracts;

namespace AppHost.Tests.WholeApp;

/// <summary>The app as a user starts it: four healthy resources, traffic through the gateway to both tracks.</summary>
[Collection(WholeAppCollection.Name)]
public sealed class WholeAppTests(AppFixture fixture)
{
    [Theory]
    [InlineData(ResourceNames.RolloutApi)]
    [InlineData(ResourceNames.Gateway)]
    [InlineData(ResourceNames.AgentStable)]
    [InlineData(ResourceNames.AgentCanary)]
    public async Task Every_resource_answers_health_and_liveness(string resource)
    {
        using var client = fixture.App.CreateHttpClient(resource, "http");

        using var health = await client.GetAsync("/health").WaitAsync(AppFixture.RequestDeadline);
        using var alive = await client.GetAsync("/alive").WaitAsync(AppFixture.RequestDeadline);

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }

    [Theory]
    [InlineData(Tracks.Stable, "1.0.0")]
    [InlineData(Tracks.Canary, "1.1.0")]
    public async Task Gateway_reaches_a_forced_track_and_says_which_version_served(string track, string version)
    {
        using var client = fixture.CreateGatewayClient();
        await fixture.AllowForcedCanaryAsync();

        using var response = await WorkItems.SendAsync(client, track);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(track, ServedBy(response));
        Assert.Equal(version, Header(response, AgentHeaders.Version));
    }

    [Fact]
    public async Task At_weight_zero_unkeyed_traffic_all_goes_to_stable()
    {
        using var client = fixture.CreateGatewayClient();

        var tracks = new List<string?>();
        for (var i = 0; i < 20; i++)
        {
            using var response = await WorkItems.SendAsync(client, forcedTrack: null);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            tracks.Add(ServedBy(response));
        }

        Assert.All(tracks, t => Assert.Equal(Tracks.Stable, t));
    }

    [Fact]
    public async Task RolloutApi_serves_the_seeded_routing_table_to_an_operator()
    {
        using var client = fixture.CreateOperatorClient();

        var table = await client.GetFromJsonAsync<RoutingTable>(RolloutApiPaths.Routing).WaitAsync(AppFixture.RequestDeadline);

        var route = Assert.IsType<AgentRoute>(table?.Find(ResourceNames.DefaultAgent));
        Assert.Equal("1.0.0", route.Stable.Version);
        Assert.Equal("1.1.0", route.Canary.Version);
        Assert.Equal($"http://{ResourceNames.AgentStable}", route.Stable.Destination);
    }

    internal static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    /// <summary>
    /// The track that served a response through the gateway, as the agent process itself wrote it (its X-Agent-Track;
    /// the gateway never writes that header). Also asserts that it is the track the gateway says it chose.
    /// </summary>
    internal static string ServedBy(HttpResponseMessage response)
    {
        var agentTrack = Header(response, AgentHeaders.Track);
        Assert.NotNull(agentTrack);
        Assert.Equal(Header(response, GatewayChoiceHeaders.Track), agentTrack);
        return agentTrack;
    }
}
