using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using AgentAspire.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentAspire.Agent.Tests.Flags;

/// <summary>
/// A real Kestrel server on 127.0.0.1 serving RolloutApi's flag stream contract: the current snapshot first, then each
/// published one. It can be stopped and started again on the same port.
/// </summary>
internal sealed class FakeRolloutApi : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly List<Channel<string>> _subscribers = [];
    private WebApplication? _app;
    private string? _current;
    private int _connections;

    public int Port { get; private set; }

    public string BaseAddress => $"http://127.0.0.1:{Port}";

    public int Connections => Volatile.Read(ref _connections);

    public string? LastApiKey { get; private set; }

    public string? LastPath { get; private set; }

    public static async Task<FakeRolloutApi> StartAsync()
    {
        var api = new FakeRolloutApi();
        await api.StartAsync(0);
        return api;
    }

    public async Task StartAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.MapGet(FlagApiPaths.Stream, StreamAsync);
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        Port = new Uri(address).Port;
        _app = app;
    }

    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await app.DisposeAsync();
        }
    }

    public void Publish(FlagSnapshot snapshot) =>
        PublishRaw(FlagApiPaths.EventName, snapshot.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), JsonSerializer.Serialize(snapshot));

    /// <summary>Sends any event; it also becomes what a new connection receives first.</summary>
    public void PublishRaw(string eventName, string id, string data)
    {
        var frame = $"event: {eventName}\nid: {id}\ndata: {data}\n\n";
        lock (_lock)
        {
            _current = frame;
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(frame);
            }
        }
    }

    /// <summary>Sends an event to open connections only.</summary>
    public void Send(string eventName, string id, string data)
    {
        var frame = $"event: {eventName}\nid: {id}\ndata: {data}\n\n";
        lock (_lock)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(frame);
            }
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task StreamAsync(HttpContext context, string agent, IHostApplicationLifetime lifetime)
    {
        LastApiKey = context.Request.Headers[AgentHeaders.ApiKey];
        LastPath = context.Request.Path + context.Request.QueryString;
        context.Response.ContentType = FlagApiPaths.EventStreamContentType;
        var channel = Channel.CreateUnbounded<string>();
        lock (_lock)
        {
            _subscribers.Add(channel);
            if (_current is not null)
            {
                channel.Writer.TryWrite(_current);
            }
        }

        Interlocked.Increment(ref _connections);
        using var done = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        try
        {
            await context.Response.Body.FlushAsync(done.Token);
            await foreach (var frame in channel.Reader.ReadAllAsync(done.Token))
            {
                await context.Response.WriteAsync(frame, done.Token);
                await context.Response.Body.FlushAsync(done.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // The agent went away or the server is stopping.
        }
        finally
        {
            lock (_lock)
            {
                _subscribers.Remove(channel);
            }
        }
    }
}
