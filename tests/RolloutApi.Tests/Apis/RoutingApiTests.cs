using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text.Json;
using AgentAspire.Contracts;
using Microsoft.AspNetCore.Mvc;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Apis;

public sealed class RoutingApiTests : IDisposable
{
    private const string WeightPath = $"/api/agents/{RolloutApiFactory.Agent}/weight";
    private readonly RolloutApiFactory _factory = new(settings: new Dictionary<string, string?>
    {
        ["RolloutApi:StreamHeartbeatInterval"] = "00:00:00.100",
    });

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Routing_table_is_seeded_from_configuration()
    {
        using var client = _factory.Viewer();

        using var response = await client.GetAsync(RolloutApiPaths.Routing).WaitAsync(Deadline.Request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var table = await response.ReadAsync<RoutingTable>();
        var route = Assert.Single(table.Agents);
        Assert.Equal(RolloutApiFactory.Agent, route.Agent);
        Assert.Equal(0, route.Weight);
        Assert.Equal(new TrackRoute("http://agent-stable", RolloutApiFactory.StableVersion), route.Stable);
        Assert.Equal(new TrackRoute("http://agent-canary", RolloutApiFactory.IdleCanaryVersion), route.Canary);
        Assert.True(table.Revision >= route.Revision && route.Revision > 0);
        Assert.Equal($"\"{table.Revision}\"", response.Headers.ETag?.Tag);
    }

    [Fact]
    public async Task Put_weight_returns_the_new_route_with_its_etag_and_the_revision_grows()
    {
        using var client = _factory.Operator();
        var before = await (await client.GetAsync(RolloutApiPaths.Routing).WaitAsync(Deadline.Request)).ReadAsync<RoutingTable>();

        using var response = await client.PutAsync(WeightPath, Json.Body("""{"weight": 1234}""")).WaitAsync(Deadline.Request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var route = await response.ReadAsync<AgentRoute>();
        Assert.Equal(1234, route.Weight);
        Assert.True(route.Revision > before.Revision);
        Assert.Equal($"\"{route.Revision}\"", response.Headers.ETag?.Tag);
        var after = await (await client.GetAsync(RolloutApiPaths.Routing).WaitAsync(Deadline.Request)).ReadAsync<RoutingTable>();
        Assert.Equal(route.Revision, after.Revision);
        Assert.Equal(1234, after.Find(RolloutApiFactory.Agent)!.Weight);
    }

    [Fact]
    public async Task Put_weight_honours_if_match()
    {
        using var client = _factory.Operator();
        var current = (await (await client.GetAsync(RolloutApiPaths.Routing).WaitAsync(Deadline.Request)).ReadAsync<RoutingTable>())
            .Find(RolloutApiFactory.Agent)!;

        using var first = await SendWeightAsync(client, 100, $"\"{current.Revision}\"");
        using var stale = await SendWeightAsync(client, 200, $"\"{current.Revision}\"");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Equal("application/problem+json", stale.Content.Headers.ContentType?.MediaType);
        Assert.Equal(100, await CurrentWeightAsync(client));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(10_001)]
    [InlineData(int.MaxValue)]
    public async Task Put_weight_out_of_range_is_400_and_changes_nothing(int weight)
    {
        using var client = _factory.Operator();
        var before = await client.GetStringAsync(RolloutApiPaths.Routing).WaitAsync(Deadline.Request);

        using var response = await SendWeightAsync(client, weight, ifMatch: null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadAsync<ProblemDetails>();
        Assert.Equal(400, problem.Status);
        Assert.Equal(before, await client.GetStringAsync(RolloutApiPaths.Routing).WaitAsync(Deadline.Request));
    }

    [Theory]
    [InlineData("""{"weight": "5"}""")]
    [InlineData("""{"weight": 1.5}""")]
    [InlineData("""{"weight": 5, "extra": true}""")]
    [InlineData("""{"weight": 5""")]
    [InlineData("""{}""")]
    [InlineData("""[]""")]
    public async Task Put_weight_with_a_malformed_body_is_a_400_problem(string body)
    {
        using var client = _factory.Operator();

        using var response = await client.PutAsync(WeightPath, Json.Body(body)).WaitAsync(Deadline.Request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, await CurrentWeightAsync(client));
    }

    [Fact]
    public async Task Put_weight_for_an_unknown_agent_is_404()
    {
        using var client = _factory.Operator();

        using var response = await client.PutAsync("/api/agents/no-such-agent/weight", Json.Body("""{"weight": 5}""")).WaitAsync(Deadline.Request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Anonymous_is_401_with_a_challenge_and_viewer_mutation_is_403()
    {
        using var anonymous = _factory.CreateClient(apiKey: null);
        using var wrongKey = _factory.CreateClient("not-a-key");
        using var viewer = _factory.Viewer();

        using var noKey = await anonymous.GetAsync(RolloutApiPaths.Routing).WaitAsync(Deadline.Request);
        using var badKey = await wrongKey.GetAsync(RolloutApiPaths.Routing).WaitAsync(Deadline.Request);
        using var viewerPut = await viewer.PutAsync(WeightPath, Json.Body("""{"weight": 5}""")).WaitAsync(Deadline.Request);
        using var viewerGet = await viewer.GetAsync(RolloutApiPaths.Routing).WaitAsync(Deadline.Request);
        var headerKey = _factory.CreateClient();
        headerKey.DefaultRequestHeaders.Add(AgentHeaders.ApiKey, RolloutApiFactory.ViewerKey);
        using var viaHeader = await headerKey.GetAsync(RolloutApiPaths.Routing).WaitAsync(Deadline.Request);

        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Contains(noKey.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        Assert.Equal("application/problem+json", noKey.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, badKey.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, viewerPut.StatusCode);
        Assert.Equal(HttpStatusCode.OK, viewerGet.StatusCode);
        Assert.Equal(HttpStatusCode.OK, viaHeader.StatusCode);
        Assert.Equal(0, await CurrentWeightAsync(viewer));
    }

    [Fact]
    public async Task Stream_sends_the_current_table_first_then_each_change()
    {
        using var viewer = _factory.Viewer();
        using var @operator = _factory.Operator();
        using var cts = new CancellationTokenSource(Deadline.Stream);
        using var response = await viewer.GetAsync(RolloutApiPaths.RoutingStream, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        await using var body = await response.Content.ReadAsStreamAsync(cts.Token);
        await using var events = SseParser.Create(body).EnumerateAsync(cts.Token).GetAsyncEnumerator(cts.Token);

        Assert.True(await events.MoveNextAsync());
        var first = Parse(events.Current);
        Assert.Equal(0, first.Find(RolloutApiFactory.Agent)!.Weight);

        using var put = await SendWeightAsync(@operator, 2500, ifMatch: null);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.True(await events.MoveNextAsync());
        var pushed = Parse(events.Current);

        Assert.Equal(2500, pushed.Find(RolloutApiFactory.Agent)!.Weight);
        Assert.True(pushed.Revision > first.Revision);
        Assert.Equal(pushed.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture), events.Current.EventId);
    }

    [Fact]
    public async Task Idle_stream_carries_heartbeat_comments()
    {
        using var viewer = _factory.Viewer();
        using var cts = new CancellationTokenSource(Deadline.Stream);
        using var response = await viewer.GetAsync(RolloutApiPaths.RoutingStream, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));

        var lines = new List<string>();
        while (await reader.ReadLineAsync(cts.Token) is { } line)
        {
            lines.Add(line);
            if (line.StartsWith(':'))
            {
                break;
            }
        }

        Assert.StartsWith("event: routing", lines[0]);
        Assert.Equal(": keep-alive", lines[^1]);
    }

    [Fact]
    public async Task Stream_needs_a_credential()
    {
        using var anonymous = _factory.CreateClient(apiKey: null);

        using var response = await anonymous.GetAsync(RolloutApiPaths.RoutingStream, HttpCompletionOption.ResponseHeadersRead)
            .WaitAsync(Deadline.Request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private static RoutingTable Parse(SseItem<string> item)
    {
        Assert.Equal(RolloutApiPaths.RoutingEventName, item.EventType);
        return JsonSerializer.Deserialize<RoutingTable>(item.Data, Json.Options)!;
    }

    private static async Task<HttpResponseMessage> SendWeightAsync(HttpClient client, int weight, string? ifMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, WeightPath) { Content = Json.Body($$"""{"weight": {{weight}}}""") };
        if (ifMatch is not null)
        {
            request.Headers.IfMatch.Add(EntityTagHeaderValue.Parse(ifMatch));
        }

        return await client.SendAsync(request).WaitAsync(Deadline.Request);
    }

    private static async Task<int> CurrentWeightAsync(HttpClient client)
    {
        var table = await (await client.GetAsync(RolloutApiPaths.Routing).WaitAsync(Deadline.Request)).ReadAsync<RoutingTable>();
        return table.Find(RolloutApiFactory.Agent)!.Weight;
    }
}
