using System.Net;
using System.Threading.Channels;
using AgentAspire.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentAspire.TestSupport;

/// <summary>
/// A real server-sent-events endpoint on 127.0.0.1 speaking RolloutApi's stream contract (the routing stream, the flag
/// stream): a new connection gets the current event first, then every published one (<c>event:</c>, <c>id:</c>,
/// <c>data:</c> frames). It can require an API key, refuse with 503 as an unwell RolloutApi would, and be stopped and
/// started again on the same port; stopping drops every open stream, as a crash would.
/// </summary>
public sealed class SseTestServer : IAsyncDisposable
{
    private readonly string _path;
    private readonly string? _apiKey;
    private readonly Lock _gate = new();
    private readonly List<Channel<string>> _subscribers = [];
    private LoopbackServer? _server;
    private string? _current;
    private int _connections;
    private int _rejected;
    private int _refused;

    /// <param name="path">The route to serve, e.g. <see cref="RolloutApiPaths.RoutingStream"/> (route parameters allowed).</param>
    /// <param name="apiKey">When set, a request without this <c>X-Api-Key</c> is answered 401.</param>
    public SseTestServer(string path, string? apiKey = null)
    {
        _path = path;
        _apiKey = apiKey;
    }

    /// <summary>The base address while running.</summary>
    public Uri Address => _server?.Address ?? throw new InvalidOperationException("The server is not running.");

    /// <summary>The port of the last start (also after a stop, to start again on it).</summary>
    public int Port { get; private set; }

    /// <summary>Stream connections accepted so far (a reconnect adds one).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>While true, stream requests are answered 503, as by a RolloutApi that is up but unwell.</summary>
    public bool Refuse { get; set; }

    /// <summary>Stream requests answered 503 because of <see cref="Refuse"/>.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>Stream requests refused for a missing or wrong API key.</summary>
    public int Rejected => Volatile.Read(ref _rejected);

    /// <summary>The <c>X-Api-Key</c> of the last stream request.</summary>
    public string? LastApiKey { get; private set; }

    /// <summary>The path and query of the last stream request.</summary>
    public string? LastPath { get; private set; }

    /// <summary>Starts on <paramref name="port"/> (0: any free port).</summary>
    public async Task StartAsync(int port = 0)
    {
        _server = await LoopbackServer.StartAsync(app => app.MapGet(_path, StreamAsync), port);
        Port = _server.Port;
    }

    /// <summary>Stops the server, dropping every open stream; <see cref="StartAsync"/> may start it again.</summary>
    public async Task StopAsync()
    {
        lock (_gate)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryComplete();
            }
        }

        if (_server is { } server)
        {
            _server = null;
            await server.DisposeAsync();
        }
    }

    /// <summary>Sends an event to open connections; it also becomes what a new connection receives first.</summary>
    public void Publish(string eventName, string id, string data) => Write(Frame(eventName, id, data), current: true);

    /// <summary>Sends an event to open connections only.</summary>
    public void Send(string eventName, string id, string data) => Write(Frame(eventName, id, data), current: false);

    public async ValueTask DisposeAsync() => await StopAsync();

    private static string Frame(string eventName, string id, string data) => $"event: {eventName}\nid: {id}\ndata: {data}\n\n";

    private void Write(string frame, bool current)
    {
        lock (_gate)
        {
            if (current)
            {
                _current = frame;
            }

            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(frame);
            }
        }
    }

    private async Task StreamAsync(HttpContext context)
    {
        LastApiKey = context.Request.Headers[AgentHeaders.ApiKey];
        LastPath = context.Request.Path + context.Request.QueryString;
        if (_apiKey is not null && !string.Equals(LastApiKey, _apiKey, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _rejected);
            context.Response.StatusCode = (int)HttpStatusCode.Unauthorized;
            return;
        }

        if (Refuse)
        {
            Interlocked.Increment(ref _refused);
            context.Response.StatusCode = (int)HttpStatusCode.ServiceUnavailable;
            return;
        }

        var channel = Channel.CreateUnbounded<string>();
        lock (_gate)
        {
            _subscribers.Add(channel);
            if (_current is not null)
            {
                channel.Writer.TryWrite(_current);
            }
        }

        Interlocked.Increment(ref _connections);
        var stopping = context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var done = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        try
        {
            context.Response.ContentType = FlagApiPaths.EventStreamContentType;
            await context.Response.Body.FlushAsync(done.Token);
            await foreach (var frame in channel.Reader.ReadAllAsync(done.Token))
            {
                await context.Response.WriteAsync(frame, done.Token);
                await context.Response.Body.FlushAsync(done.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // The client hung up or the server is stopping.
        }
        finally
        {
            lock (_gate)
            {
                _subscribers.Remove(channel);
            }
        }
    }
}
