using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentAspire.Contracts;

namespace AppHost.Tests.WholeApp;

/// <summary>
/// Who served is what the agent process says — its identity on the response, its own counters — never the gateway's
/// stamp. These fail if both tracks resolve to one process, or if the canary's share is not served by the canary.
/// </summary>
[Collection(WholeAppCollection.Name)]
public sealed class ServedByTests(AppFixture fixture)
{
    private const string ProcessedItems = "agent_processed_items_total";

    [Fact]
    public async Task Each_track_is_its_own_process_with_its_own_address()
    {
        using var gateway = fixture.CreateGatewayClient();
        await fixture.AllowForcedCanaryAsync();
        var stableEndpoint = fixture.App.GetEndpoint(ResourceNames.AgentStable, "http");
        var canaryEndpoint = fixture.App.GetEndpoint(ResourceNames.AgentCanary, "http");

        var viaGatewayStable = await IdentityViaGatewayAsync(gateway, Tracks.Stable);
        var viaGatewayCanary = await IdentityViaGatewayAsync(gateway, Tracks.Canary);
        var directStable = await IdentityAsync(ResourceNames.AgentStable);
        var directCanary = await IdentityAsync(ResourceNames.AgentCanary);

        Assert.NotEqual(stableEndpoint, canaryEndpoint);
        Assert.Equal((Tracks.Stable, Tracks.Canary), (directStable.Track, directCanary.Track));
        Assert.NotEqual(directStable.Instance, directCanary.Instance);
        Assert.NotEqual(directStable.ProcessId, directCanary.ProcessId);
        // The gateway reaches the very processes the tracks name.
        Assert.Equal(directStable.Instance, viaGatewayStable.Instance);
        Assert.Equal(directCanary.Instance, viaGatewayCanary.Instance);
    }

    [Fact]
    public async Task At_10_percent_the_canary_process_itself_counts_40_of_400_unkeyed_requests()
    {
        using var api = fixture.CreateOperatorClient();
        using var gateway = fixture.CreateGatewayClient();
        using var stable = fixture.App.CreateHttpClient(ResourceNames.AgentStable, "http");
        using var canary = fixture.App.CreateHttpClient(ResourceNames.AgentCanary, "http");
        const int requests = 400;
        try
        {
            await RoutingTests.SetWeightAsync(api, 1_000);
            await RoutingTests.WaitForGatewayWeightAsync(gateway, 1_000);
            var stableBefore = await ProcessedAsync(stable);
            var canaryBefore = await ProcessedAsync(canary);

            var servedByCanary = 0;
            for (var i = 0; i < requests; i++)
            {
                using var response = await WorkItems.SendAsync(gateway, forcedTrack: null);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                // The agent's own word matches the gateway's choice on every response.
                servedByCanary += WholeAppTests.ServedBy(response) == Tracks.Canary ? 1 : 0;
            }

            // The agents' own counters, read from each process: the scrape may lag the last responses by a moment.
            (long Stable, long Canary) delta = default;
            await RoutingTests.WaitUntilAsync(async () =>
            {
                delta = (await ProcessedAsync(stable) - stableBefore, await ProcessedAsync(canary) - canaryBefore);
                return delta.Stable + delta.Canary >= requests;
            }, $"the agents to count {requests} items");

            Assert.InRange(delta.Canary, 39, 41);
            Assert.Equal(requests, delta.Stable + delta.Canary);
            Assert.Equal(servedByCanary, delta.Canary);

            var stats = await gateway.GetFromJsonAsync<JsonElement>("/gateway/stats").WaitAsync(AppFixture.RequestDeadline);
            Assert.Equal(0, stats.GetProperty("identityMismatches").GetProperty("total").GetInt64());
        }
        finally
        {
            await RoutingTests.SetWeightAsync(api, 0);
            await RoutingTests.WaitForGatewayWeightAsync(gateway, 0);
        }
    }

    /// <summary>Polls the track's own <c>/identity</c> until a process other than <paramref name="previousInstance"/> answers.</summary>
    internal static async Task<AgentIdentity> WaitForNewInstanceAsync(AppFixture fixture, string resource, string previousInstance)
    {
        using var client = fixture.App.CreateHttpClient(resource, "http");
        AgentIdentity? current = null;
        await RoutingTests.WaitUntilAsync(async () =>
        {
            try
            {
                current = await client.GetFromJsonAsync<AgentIdentity>(AgentPaths.Identity).WaitAsync(AppFixture.RequestDeadline);
            }
            catch (HttpRequestException)
            {
                // Not listening yet (or a proxy with no process behind it): not an answer.
                return false;
            }

            return current is not null && current.Instance != previousInstance;
        }, $"a new {resource} process to answer");
        return current!;
    }

    internal async Task<AgentIdentity> IdentityAsync(string resource)
    {
        using var client = fixture.App.CreateHttpClient(resource, "http");
        return (await client.GetFromJsonAsync<AgentIdentity>(AgentPaths.Identity).WaitAsync(AppFixture.RequestDeadline))!;
    }

    internal static async Task<AgentIdentity> IdentityViaGatewayAsync(HttpClient gateway, string track)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, AgentPaths.Identity);
        request.Headers.Add(AgentHeaders.Track, track);
        using var response = await gateway.SendAsync(request).WaitAsync(AppFixture.RequestDeadline);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var identity = (await response.Content.ReadFromJsonAsync<AgentIdentity>())!;
        Assert.Equal(track, identity.Track);
        Assert.Equal(track, WholeAppTests.ServedBy(response));
        return identity;
    }

    /// <summary>The agent's own <c>agent_processed_items_total</c>, summed over its series, from its <c>/metrics</c>.</summary>
    internal static async Task<long> ProcessedAsync(HttpClient agent)
    {
        var text = await agent.GetStringAsync("/metrics").WaitAsync(AppFixture.RequestDeadline);
        long total = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(ProcessedItems + "{", StringComparison.Ordinal) || line.StartsWith(ProcessedItems + " ", StringComparison.Ordinal))
            {
                var value = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1];
                total += (long)double.Parse(value, CultureInfo.InvariantCulture);
            }
        }

        return total;
    }
}

/// <summary>An agent's <c>GET /identity</c> as the tests read it.</summary>
internal sealed record AgentIdentity(
    string Agent, string Track, string Version, int? Revision, string Build, string Instance, int ProcessId, DateTimeOffset StartedAt);
