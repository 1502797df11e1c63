using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentAspire.TestSupport;

/// <summary>
/// A real Kestrel server on 127.0.0.1 (a port the OS picks, or a given one, e.g. a stopped server's to simulate a restart)
/// for a test's stand-ins. Logging off; open streams do not hold a stop for more than a second; every start and stop has
/// a deadline.
/// </summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    /// <summary>How long a start or a stop may take.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly WebApplication _app;

    private LoopbackServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>The base address, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri Address { get; }

    public int Port => Address.Port;

    /// <summary>The server's services (e.g. its <c>IHostApplicationLifetime</c>).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a server whose endpoints <paramref name="map"/> adds, on <paramref name="port"/> (0: any free port).</summary>
    public static async Task<LoopbackServer> StartAsync(Action<WebApplication> map, int port = 0)
    {
        ArgumentNullException.ThrowIfNull(map);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        // Open streams would otherwise hold a stop for the default 30 s.
        builder.WebHost.UseShutdownTimeout(TimeSpan.FromSeconds(1));
        var app = builder.Build();
        map(app);
        await app.StartAsync().WaitAsync(Deadline);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new LoopbackServer(app, new Uri(address));
    }

    /// <summary>Stops the server; open connections are dropped, as a crash of the real service would drop them.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().WaitAsync(Deadline);
        await _app.DisposeAsync();
    }
}
