using System.Globalization;
using System.Text.Json;
using AgentAspire.Contracts;
using AgentAspire.TestSupport;

namespace Gateway.Tests.Support;

/// <summary>
/// RolloutApi's routing stream on a real loopback server (<see cref="SseTestServer"/>): <c>GET /api/routing/stream</c>
/// with the viewer key sends the current table, then every table <see cref="PublishAsync"/> is given, as server-sent
/// events. Stopping it drops every open stream, as a crash of RolloutApi would.
/// </summary>
public sealed class FakeRolloutApi : IAsyncDisposable
{
    public const string ViewerKey = "viewer-key-for-tests";

    private readonly SseTestServer _server = new(RolloutApiPaths.RoutingStream, ViewerKey);

    private FakeRolloutApi()
    {
    }

    public Uri Address => _server.Address;

    /// <summary>Stream connections accepted so far (a reconnect adds one).</summary>
    public int Connections => _server.Connections;

    /// <summary>While true, stream requests are answered 503, as by a RolloutApi that is up but unwell.</summary>
    public bool Refuse
    {
        get => _server.Refuse;
        set => _server.Refuse = value;
    }

    /// <summary>Stream requests answered 503 because of <see cref="Refuse"/>.</summary>
    public int Refused => _server.Refused;

    /// <summary>Stream requests refused for a missing or wrong API key.</summary>
    public int Rejected => _server.Rejected;

    public static Task<FakeRolloutApi> StartAsync(RoutingTable? initial = null) => StartAsync(port: 0, initial);

    /// <summary>Starts on <paramref name="port"/> (0 for any), e.g. the port of a stopped instance to simulate a restart.</summary>
    public static async Task<FakeRolloutApi> StartAsync(int port, RoutingTable? initial)
    {
        var api = new FakeRolloutApi();
        if (initial is not null)
        {
            api.Publish(initial);
        }

        await api._server.StartAsync(port);
        return api;
    }

    public Task PublishAsync(RoutingTable table)
    {
        Publish(table);
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private void Publish(RoutingTable table) =>
        _server.Publish(RolloutApiPaths.RoutingEventName, table.Revision.ToString(CultureInfo.InvariantCulture), JsonSerializer.Serialize(table));
}
