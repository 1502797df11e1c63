using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace GatewayBench;

/// <summary>
/// The baseline for "what does our own code cost": YARP as its documentation writes an A/B split — the standard
/// proxy pipeline, one cluster per track, and a middleware that reassigns every n-th request to the canary cluster
/// (the same exact counter split as the gateway's). No OpenTelemetry, no stats, no cookies, no header stamping;
/// logging at Warning. Runtime settings (GC, tiering, env) are whatever the bench gives the gateway too, and Kestrel's
/// socket transport keeps its defaults as the gateway's does (<c>--io-queue-count N</c> to change it).
/// </summary>
internal static class BareYarp
{
    private const string Stable = "stable";
    private const string Canary = "canary";

    public static async Task<int> RunAsync(Arguments args)
    {
        var port = args.Int("port", 18092);
        var weight = args.Int("weight", 1000);

        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        // The gateway's transport settings (Kestrel's defaults, Gateway/Extensions), so that the ratio stays the cost of our code.
        var ioQueues = args.Int("io-queue-count", -1);
        if (ioQueues >= 0)
        {
            builder.Services.Configure<SocketTransportOptions>(transport => transport.IOQueueCount = ioQueues);
        }
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "agent", ClusterId = Stable, Match = new RouteMatch { Path = "/{**catch-all}" } }],
            [Cluster(Stable, args.Require("stable")), Cluster(Canary, args.Require("canary"))]);

        var app = builder.Build();
        app.MapGet("/health", () => "ok");
        var lookup = app.Services.GetRequiredService<IProxyStateLookup>();
        long sequence = 0;
        app.MapReverseProxy(proxy =>
        {
            proxy.Use((context, next) =>
            {
                // Bresenham over 10,000, as the gateway's split: request n is canary iff floor((n+1)w) > floor(nw).
                var n = (ulong)(Interlocked.Increment(ref sequence) - 1) % 10_000;
                if ((n + 1) * (ulong)weight / 10_000 > n * (ulong)weight / 10_000 && lookup.TryGetCluster(Canary, out ClusterState? canary))
                {
                    context.ReassignProxyRequest(canary);
                }

                return next();
            });
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });

        Console.WriteLine($"bare YARP on http://127.0.0.1:{port} (canary weight {weight} bp)");
        await app.RunAsync();
        return 0;
    }

    private static ClusterConfig Cluster(string id, string address) => new()
    {
        ClusterId = id,
        Destinations = new Dictionary<string, DestinationConfig> { [id] = new() { Address = address } },
    };
}
