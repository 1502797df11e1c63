using System.Globalization;
using System.Text.Json;
using AgentAspire.Contracts;
using AgentAspire.TestSupport;

namespace AgentAspire.Agent.Tests.Flags;

/// <summary>
/// RolloutApi's flag stream on a real loopback server (<see cref="SseTestServer"/>): the current snapshot first, then each
/// published one. It can be stopped and started again on the same port.
/// </summary>
internal sealed class FakeRolloutApi : IAsyncDisposable
{
    private readonly SseTestServer _server = new(FlagApiPaths.Stream);

    public int Port => _server.Port;

    public string BaseAddress => $"http://127.0.0.1:{Port}";

    public int Connections => _server.Connections;

    public string? LastApiKey => _server.LastApiKey;

    public string? LastPath => _server.LastPath;

    public static async Task<FakeRolloutApi> StartAsync()
    {
        var api = new FakeRolloutApi();
        await api.StartAsync(0);
        return api;
    }

    public Task StartAsync(int port) => _server.StartAsync(port);

    public Task StopAsync() => _server.StopAsync();

    public void Publish(FlagSnapshot snapshot) =>
        PublishRaw(FlagApiPaths.EventName, snapshot.Version.ToString(CultureInfo.InvariantCulture), JsonSerializer.Serialize(snapshot));

    /// <summary>Sends any event; it also becomes what a new connection receives first.</summary>
    public void PublishRaw(string eventName, string id, string data) => _server.Publish(eventName, id, data);

    /// <summary>Sends an event to open connections only.</summary>
    public void Send(string eventName, string id, string data) => _server.Send(eventName, id, data);

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
