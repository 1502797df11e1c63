using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RolloutApi.Tests.Faults;

/// <summary>
/// A real Kestrel server standing in for one agent track: it writes its own track in every response body and counts what
/// it served, so a test learns who served from the agent's word, not from the gateway's headers.
/// </summary>
public sealed class AgentStandIn : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _served;

    private AgentStandIn(WebApplication app, string track)
    {
        _app = app;
        Track = track;
    }

    public string Track { get; }

    public Uri Address { get; private set; } = null!;

    /// <summary>Requests this process answered, by its own count.</summary>
    public int Served => Volatile.Read(ref _served);

    public static async Task<AgentStandIn> StartAsync(string track)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var agent = new AgentStandIn(app, track);
        app.Run(context =>
        {
            Interlocked.Increment(ref agent._served);
            return context.Response.WriteAsync(track);
        });
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        agent.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
        return agent;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await _app.DisposeAsync();
    }
}
