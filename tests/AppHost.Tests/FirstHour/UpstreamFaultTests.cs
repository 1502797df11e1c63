using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentAspire.Contracts;

namespace AppHost.Tests.FirstHour;

/// <summary>The upstream simulator's control API makes one track's calls failing or slow, and only that track's.</summary>
[Collection(FirstHourCollection.Name)]
public sealed class UpstreamFaultTests(FirstHourFixture app)
{
    [Fact]
    public async Task A_failing_canary_upstream_fails_the_canarys_items_and_only_those()
    {
        using var upstream = app.CreateClient(ResourceNames.UpstreamApi);
        using var gateway = app.CreateClient(ResourceNames.Gateway);
        try
        {
            using (var set = await upstream.PutAsJsonAsync("/faults/canary", new { latencyMs = 0, errorRate = 1.0 }))
            {
                Assert.Equal(HttpStatusCode.OK, set.StatusCode);
            }

            var failedBefore = await UpstreamCountAsync(upstream, Tracks.Canary, "failed");
            for (var i = 0; i < 5; i++)
            {
                using var canary = await SendAsync(gateway, Tracks.Canary);
                // The agent itself says it is the canary, and that its upstream failed the item.
                Assert.Equal(Tracks.Canary, canary.Headers.GetValues(AgentHeaders.Track).Single());
                Assert.Equal(HttpStatusCode.BadGateway, canary.StatusCode);
            }

            using (var stable = await SendAsync(gateway, Tracks.Stable))
            {
                Assert.Equal(Tracks.Stable, stable.Headers.GetValues(AgentHeaders.Track).Single());
                Assert.Equal(HttpStatusCode.OK, stable.StatusCode);
            }

            // The other side's count: the simulator failed the canary's calls.
            Assert.True(await UpstreamCountAsync(upstream, Tracks.Canary, "failed") - failedBefore >= 5);

            using (var set = await upstream.PutAsJsonAsync("/faults/canary", new { latencyMs = 400, errorRate = 0.0 }))
            {
                Assert.Equal(HttpStatusCode.OK, set.StatusCode);
            }

            Assert.True(await UpstreamSecondsAsync(gateway, Tracks.Canary) >= 0.4, "the canary's upstream call took the added 400 ms");
            Assert.True(await UpstreamSecondsAsync(gateway, Tracks.Stable) < 0.4, "the stable track's upstream call is not slowed");
        }
        finally
        {
            using var clear = await upstream.DeleteAsync("/faults");
            Assert.Equal(HttpStatusCode.NoContent, clear.StatusCode);
        }

        using var faults = JsonDocument.Parse(await upstream.GetStringAsync("/faults"));
        Assert.Empty(faults.RootElement.GetProperty("tracks").EnumerateObject());
    }

    [Fact]
    public async Task The_control_api_refuses_a_bad_fault_with_problem_details()
    {
        using var upstream = app.CreateClient(ResourceNames.UpstreamApi);
        using var response = await upstream.PutAsJsonAsync("/faults/canary", new { latencyMs = -1, errorRate = 1.5 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var errors = problem.RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty("latencyMs", out _));
        Assert.True(errors.TryGetProperty("errorRate", out _));
        using var fault = JsonDocument.Parse(await upstream.GetStringAsync("/faults/canary"));
        Assert.Equal(0, fault.RootElement.GetProperty("errorRate").GetDouble());
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient gateway, string track)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/items")
        {
            Content = JsonContent.Create(new { kind = "text", payload = new { text = "A fault drill for one track." } }),
        };
        request.Headers.Add(AgentHeaders.Track, track);
        return await gateway.SendAsync(request).WaitAsync(FirstHourFixture.RequestDeadline);
    }

    private static async Task<double> UpstreamSecondsAsync(HttpClient gateway, string track)
    {
        using var response = await SendAsync(gateway, track);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(track, body.RootElement.GetProperty("servedBy").GetProperty("track").GetString());
        return body.RootElement.GetProperty("upstream").GetProperty("durationSeconds").GetDouble();
    }

    private static async Task<double> UpstreamCountAsync(HttpClient upstream, string track, string outcome) =>
        PrometheusScrape.Parse(await upstream.GetStringAsync("/metrics"))
            .Where(s => s.Name == "upstream_requests_total" && s.Labels.GetValueOrDefault("track") == track && s.Labels.GetValueOrDefault("outcome") == outcome)
            .Sum(s => s.Value);
}
