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
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Support;

/// <summary>
/// A real Kestrel server speaking RolloutApi's routing stream: <c>GET /api/routing/stream</c> with the viewer key
/// sends the current table, then every table <see cref="PublishAsync"/> is given, as server-sent events.
/// Stopping it drops every open stream, as a crash of RolloutApi would.
/// </summary>
public sealed class FakeRolloutApi : IAsyncDisposable
{
    public const string ViewerKey = "viewer-key-for-tests";

    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly List<Channel<RoutingTable>> _subscribers = [];
    private RoutingTable? _current;
    private int _connections;
    private int _rejected;
    private int _refused;

    private FakeRolloutApi(WebApplication app) => _app = app;

    public Uri Address { get; private set; } = null!;

    /// <summary>Stream connections accepted so far (a reconnect adds one).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>While true, stream requests are answered 503, as by a RolloutApi that is up but unwell.</summary>
    public bool Refuse { get; set; }

    /// <summary>Stream requests answered 503 because of <see cref="Refuse"/>.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>Stream requests refused for a missing or wrong API key.</summary>
    public int Rejected => Volatile.Read(ref _rejected);

    public static Task<FakeRolloutApi> StartAsync(RoutingTable? initial = null) => StartAsync(port: 0, initial);

    /// <summary>Starts on <paramref name="port"/> (0 for any), e.g. the port of a stopped instance to simulate a restart.</summary>
    public static async Task<FakeRolloutApi> StartAsync(int port, RoutingTable? initial)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls($"http://127.0.0.1:{port}");
        // Open streams would otherwise hold shutdown for the default 30 s.
        builder.WebHost.UseShutdownTimeout(TimeSpan.FromSeconds(1));
        var app = builder.Build();
        var api = new FakeRolloutApi(app) { _current = initial };
        app.MapGet(RolloutApiPaths.RoutingStream, api.StreamAsync);
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        api.Address = new Uri(address);
        return api;
    }

    public async Task PublishAsync(RoutingTable table)
    {
        Channel<RoutingTable>[] subscribers;
        lock (_gate)
        {
            _current = table;
            subscribers = [.. _subscribers];
        }

        foreach (var subscriber in subscribers)
        {
            await subscriber.Writer.WriteAsync(table).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryComplete();
            }
        }

        await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await _app.DisposeAsync();
    }

    private async Task StreamAsync(HttpContext context)
    {
        if (!string.Equals(context.Request.Headers[AgentHeaders.ApiKey], ViewerKey, StringComparison.Ordinal))
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

        var channel = Channel.CreateUnbounded<RoutingTable>();
        RoutingTable? first;
        lock (_gate)
        {
            first = _current;
            _subscribers.Add(channel);
        }

        Interlocked.Increment(ref _connections);
        try
        {
            context.Response.ContentType = "text/event-stream";
            if (first is not null)
            {
                await WriteAsync(context.Response, first, context.RequestAborted);
            }
            else
            {
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }

            await foreach (var table in channel.Reader.ReadAllAsync(context.RequestAborted))
            {
                await WriteAsync(context.Response, table, context.RequestAborted);
            }
        }
        catch (OperationCanceledException)
        {
            // The gateway hung up.
        }
        finally
        {
            lock (_gate)
            {
                _subscribers.Remove(channel);
            }
        }
    }

    private static async Task WriteAsync(HttpResponse response, RoutingTable table, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(table);
        await response.WriteAsync($"event: {RolloutApiPaths.RoutingEventName}\nid: {table.Revision}\ndata: {json}\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
