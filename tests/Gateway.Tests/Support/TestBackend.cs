using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServiceDefaults.Contracts;

namespace Gateway.Tests.Support;

/// <summary>
/// A real Kestrel server on 127.0.0.1 standing in for one agent track: answers every path with its own name, and
/// <c>/status/{code}</c> with that status. It also sends an <c>X-Agent-Version</c> of its own, which the gateway must
/// replace with the routing table's.
/// </summary>
public sealed class TestBackend : IAsyncDisposable
{
    public const string BackendVersionHeaderValue = "from-backend";

    private readonly WebApplication _app;

    private TestBackend(WebApplication app, string name)
    {
        _app = app;
        Name = name;
    }

    public string Name { get; }

    public Uri Address { get; private set; } = null!;

    public int Hits => _hits;

    public ConcurrentQueue<string> Paths { get; } = new();

    /// <summary>The <c>traceparent</c> each request arrived with (empty when none): the trace context the agent saw.</summary>
    public ConcurrentQueue<string> TraceParents { get; } = new();

    private int _hits;

    public static async Task<TestBackend> StartAsync(string name)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var backend = new TestBackend(app, name);
        app.Run(async context =>
        {
            Interlocked.Increment(ref backend._hits);
            backend.Paths.Enqueue(context.Request.Path);
            backend.TraceParents.Enqueue(context.Request.Headers.TraceParent.ToString());
            context.Response.Headers[AgentHeaders.Version] = BackendVersionHeaderValue;
            var path = context.Request.Path.Value ?? "";
            if (path.StartsWith("/status/", StringComparison.Ordinal) && int.TryParse(path["/status/".Length..], out var status))
            {
                context.Response.StatusCode = status;
            }

            await context.Response.WriteAsync(name);
        });
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        backend.Address = new Uri(address);
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await _app.DisposeAsync();
    }
}
