using System.Collections.Concurrent;
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
/// A real Kestrel server on 127.0.0.1 standing in for one agent track: answers every path with its own name, and
/// <c>/status/{code}</c> with that status. Like a real agent it stamps its own identity (agent, track and an
/// <c>X-Agent-Version</c> of its own), which the gateway must pass through untouched.
/// </summary>
public sealed class TestBackend : IAsyncDisposable
{
    public const string BackendVersionHeaderValue = "from-backend";

    private readonly WebApplication _app;

    private TestBackend(WebApplication app, string name, string track)
    {
        _app = app;
        Name = name;
        Track = track;
    }

    public string Name { get; }

    /// <summary>The track this backend says it is (its <c>X-Agent-Track</c>).</summary>
    public string Track { get; }

    public Uri Address { get; private set; } = null!;

    public int Hits => _hits;

    public ConcurrentQueue<string> Paths { get; } = new();

    /// <summary>The <c>traceparent</c> each request arrived with (empty when none): the trace context the agent saw.</summary>
    public ConcurrentQueue<string> TraceParents { get; } = new();

    private int _hits;

    /// <summary>Starts a backend named <paramref name="name"/> that says it runs <paramref name="track"/> (default: its name).</summary>
    /// <param name="stampIdentity">False: answers without any X-Agent-* identity, as a process not built on ServiceDefaults.</param>
    public static async Task<TestBackend> StartAsync(string name, string? track = null, bool stampIdentity = true)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var backend = new TestBackend(app, name, track ?? name);
        app.Run(async context =>
        {
            Interlocked.Increment(ref backend._hits);
            backend.Paths.Enqueue(context.Request.Path);
            backend.TraceParents.Enqueue(context.Request.Headers.TraceParent.ToString());
            if (stampIdentity)
            {
                context.Response.Headers[AgentHeaders.Agent] = ResourceNames.DefaultAgent;
                context.Response.Headers[AgentHeaders.Track] = backend.Track;
                context.Response.Headers[AgentHeaders.Version] = BackendVersionHeaderValue;
            }
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
