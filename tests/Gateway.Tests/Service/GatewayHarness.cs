using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net;
using AgentAspire.Contracts;
using AgentAspire.TestSupport;
using Gateway.Apis;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Gateway.Tests.Service;

/// <summary>Two real backends (stable, canary) and helpers to talk to a gateway in front of them.</summary>
public sealed class GatewayHarness : IAsyncLifetime
{
    public static readonly TimeSpan RequestDeadline = TimeSpan.FromSeconds(30);

    public AgentStandIn Stable { get; private set; } = null!;

    public AgentStandIn Canary { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Stable = await AgentStandIn.StartAsync(Tracks.Stable);
        Canary = await AgentStandIn.StartAsync(Tracks.Canary);
    }

    public async Task DisposeAsync()
    {
        await Stable.DisposeAsync();
        await Canary.DisposeAsync();
    }

    /// <summary>A client that keeps no cookies: each request arrives unkeyed unless the test adds a key.</summary>
    public static HttpClient Client(GatewayFactory factory) =>
        factory.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false, AllowAutoRedirect = false });

    /// <summary>
    /// Sends one request; <c>Track</c>/<c>Version</c> are the gateway's choice (<c>X-Gateway-*</c>), <c>AgentTrack</c>
    /// what the backend that answered said it is, <c>Body</c> that backend's name.
    /// </summary>
    public static async Task<(HttpStatusCode Status, string? Track, string? Version, string Body, string? AgentTrack, string? AgentVersion)> SendAsync(
        HttpClient client, string path = "/work", string? forcedTrack = null, string? clientId = null, string? cookie = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (forcedTrack is not null)
        {
            request.Headers.Add(AgentHeaders.Track, forcedTrack);
        }

        if (clientId is not null)
        {
            request.Headers.Add(AgentHeaders.ClientId, clientId);
        }

        if (cookie is not null)
        {
            request.Headers.Add("Cookie", $"{AgentHeaders.ClientCookie}={cookie}");
        }

        using var response = await client.SendAsync(request).WaitAsync(RequestDeadline);
        return (response.StatusCode, Header(response, GatewayChoiceHeaders.Track), Header(response, GatewayChoiceHeaders.Version),
            await response.Content.ReadAsStringAsync().WaitAsync(RequestDeadline),
            Header(response, AgentHeaders.Track), Header(response, AgentHeaders.Version));
    }

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    public static async Task<AppliedRouting> RoutingAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<AppliedRouting>(GatewayApi.RoutingPath).WaitAsync(RequestDeadline))!;

    public static Task<AppliedRouting> WaitForRevisionAsync(HttpClient client, long revision) =>
        Poll.UntilAsync(() => RoutingAsync(client), r => r.Revision == revision, $"routing revision {revision}");

    /// <summary>A loopback port nothing listens on: connecting to it is refused at once.</summary>
    public static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
