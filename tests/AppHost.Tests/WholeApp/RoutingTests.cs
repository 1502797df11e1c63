using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentAspire.Contracts;

namespace AppHost.Tests.WholeApp;

/// <summary>
/// The routing table end to end: a weight set in RolloutApi reaches the gateway over the stream, unkeyed traffic
/// follows it exactly, and the gateway keeps the last table while RolloutApi is down (fail static).
/// </summary>
[Collection(WholeAppCollection.Name)]
public sealed class RoutingTests(AppFixture fixture)
{
    private static readonly TimeSpan PropagationDeadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_weight_set_in_RolloutApi_applies_in_the_gateway_and_splits_unkeyed_traffic_exactly()
    {
        using var api = fixture.CreateOperatorClient();
        using var gateway = fixture.CreateGatewayClient();
        try
        {
            await SetWeightAsync(api, 2_500);
            await WaitForGatewayWeightAsync(gateway, 2_500);

            var canary = await CountCanaryAsync(gateway, requests: 200);

            // A smooth split is exact up to one request over any run of requests, whatever the starting phase.
            Assert.InRange(canary, 49, 51);
        }
        finally
        {
            await SetWeightAsync(api, 0);
            await WaitForGatewayWeightAsync(gateway, 0);
        }
    }

    [Fact]
    public async Task A_keyed_client_keeps_its_track_and_only_moves_to_canary_as_the_weight_rises()
    {
        using var api = fixture.CreateOperatorClient();
        using var gateway = fixture.CreateGatewayClient();
        var clients = Enumerable.Range(0, 40).Select(i => $"client-{i}").ToArray();
        try
        {
            var previous = new Dictionary<string, string?>();
            foreach (var weight in new[] { 1_000, 5_000, 9_000 })
            {
                await SetWeightAsync(api, weight);
                await WaitForGatewayWeightAsync(gateway, weight);
                foreach (var client in clients)
                {
                    using var first = await WorkItems.SendAsync(gateway, forcedTrack: null, clientId: client);
                    using var second = await WorkItems.SendAsync(gateway, forcedTrack: null, clientId: client);
                    Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));
                    var track = WholeAppTests.ServedBy(first);
                    Assert.Equal(track, WholeAppTests.ServedBy(second));
                    if (previous.TryGetValue(client, out var before) && before == Tracks.Canary)
                    {
                        Assert.Equal(Tracks.Canary, track);
                    }

                    previous[client] = track;
                }
            }

            Assert.Contains(Tracks.Canary, previous.Values);
            Assert.Contains(Tracks.Stable, previous.Values);
        }
        finally
        {
            await SetWeightAsync(api, 0);
            await WaitForGatewayWeightAsync(gateway, 0);
        }
    }

    [Fact]
    public async Task Gateway_keeps_the_last_table_while_RolloutApi_is_down_and_follows_again_after_restart()
    {
        using var api = fixture.CreateOperatorClient();
        using var gateway = fixture.CreateGatewayClient();
        using var deadline = new CancellationTokenSource(AppFixture.StartDeadline);

        await SetWeightAsync(api, 5_000);
        await WaitForGatewayWeightAsync(gateway, 5_000);

        var stopped = await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.RolloutApi, KnownResourceCommands.StopCommand, deadline.Token);
        Assert.True(stopped.Success, stopped.Message);
        try
        {
            await WaitUntilAsync(async () => !(await GetAppliedRoutingAsync(gateway)).GetProperty("streamConnected").GetBoolean(),
                "the gateway to notice that RolloutApi is gone");

            // Fail static: traffic keeps flowing on the last weights.
            var canary = await CountCanaryAsync(gateway, requests: 100);
            Assert.InRange(canary, 49, 51);
            Assert.Equal(5_000, (await GetAppliedRoutingAsync(gateway)).GetProperty("weight").GetInt32());
        }
        finally
        {
            await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.RolloutApi, KnownResourceCommands.StartCommand, deadline.Token);
            await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.RolloutApi, deadline.Token);
        }

        // The state survived the restart (SQLite), and changes flow again.
        using var restarted = fixture.CreateOperatorClient();
        var table = await restarted.GetFromJsonAsync<RoutingTable>(RolloutApiPaths.Routing).WaitAsync(AppFixture.RequestDeadline);
        Assert.Equal(5_000, table!.Find(ResourceNames.DefaultAgent)!.Weight);

        await SetWeightAsync(restarted, 0);
        await WaitForGatewayWeightAsync(gateway, 0);
        Assert.Equal(0, await CountCanaryAsync(gateway, requests: 20));
    }

    internal static async Task SetWeightAsync(HttpClient api, int weight)
    {
        using var response = await api.PutAsJsonAsync($"/api/agents/{ResourceNames.DefaultAgent}/weight", new { weight })
            .WaitAsync(AppFixture.RequestDeadline);
        Assert.True(response.IsSuccessStatusCode, $"PUT weight {weight}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    internal static Task WaitForGatewayWeightAsync(HttpClient gateway, int weight) =>
        WaitUntilAsync(async () => (await GetAppliedRoutingAsync(gateway)).GetProperty("weight").GetInt32() == weight,
            $"the gateway to apply weight {weight}");

    internal static async Task<JsonElement> GetAppliedRoutingAsync(HttpClient gateway) =>
        await gateway.GetFromJsonAsync<JsonElement>("/gateway/routing").WaitAsync(AppFixture.RequestDeadline);

    internal static async Task<int> CountCanaryAsync(HttpClient gateway, int requests)
    {
        var canary = 0;
        for (var i = 0; i < requests; i++)
        {
            using var response = await WorkItems.SendAsync(gateway, forcedTrack: null);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            if (WholeAppTests.ServedBy(response) == Tracks.Canary)
            {
                canary++;
            }
        }

        return canary;
    }

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < PropagationDeadline, $"Timed out after {PropagationDeadline} waiting for {what}.");
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }
    }
}
