using Gateway.Identity;
using Gateway.Routing;
using Gateway.Stats;
using Gateway.Stream;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;

namespace Gateway.Extensions;

/// <summary>The gateway's wiring: options, routing state, YARP with service discovery, the stream client and stats.</summary>
public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<GatewayOptions>()
            .BindConfiguration(GatewayOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);
        // Random.Shared is thread-safe; tests replace it with a seeded instance.
        services.TryAddSingleton(Random.Shared);

        services.AddSingleton<IRoutingState, RoutingState>();
        services.AddSingleton<ITrackSelector, TrackSelector>();
        services.AddSingleton<IClientKeyIssuer, ClientKeyIssuer>();
        services.AddSingleton<ForcedTrackPolicy>();
        services.AddSingleton<TrackDestinations>();
        services.AddSingleton<IProxyDestinations, ProxyDestinations>();
        services.AddSingleton<ITrafficStats, TrafficStats>();
        services.AddSingleton<GatewayMetrics>();
        services.AddServedByCheck();

        AddProxy(builder);
        AddRoutingStream(services);
        return builder;
    }

    /// <summary>Everything that is not the gateway's own endpoint goes to the agent through YARP.</summary>
    public static WebApplication MapAgentProxy(this WebApplication app)
    {
        app.MapReverseProxy(proxy =>
        {
            // TrackRoutingMiddleware also reports each outcome to passive health (YARP's UsePassiveHealthChecks step).
            proxy.UseMiddleware<TrackRoutingMiddleware>();
            // Between the track choice and load balancing: a retry stays on the chosen track, on another replica.
            proxy.UseMiddleware<ReplicaRetryMiddleware>();
            proxy.UseLoadBalancing();
        });
        return app;
    }

    private static void AddProxy(IHostApplicationBuilder builder)
    {
        // Read once for the initial YARP configuration; validation runs at start either way.
        var options = builder.Configuration.GetSection(GatewayOptions.SectionName).Get<GatewayOptions>() ?? new GatewayOptions();
        builder.Services.AddReverseProxy()
            .LoadFromMemory(
                ProxyConfigFactory.Routes(),
                ProxyConfigFactory.Clusters(options.Stable.Destination, options.Canary.Destination, options))
            .AddServiceDiscoveryDestinationResolver()
            .AddTransforms<TrackHeadersTransform>();

        builder.Services.Configure<TransportFailureRateHealthPolicyOptions>(policy =>
        {
            // A replica failing a third of its requests at transport level within 10 s (at least 10 requests) is
            // taken out; it comes back after Gateway:ReactivationPeriod (at least this window).
            policy.DetectionWindowSize = TimeSpan.FromSeconds(10);
            policy.MinimalTotalCountThreshold = 10;
            policy.DefaultFailureRateLimit = 0.3;
        });

        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.AddServerHeader = false);
        // Kestrel's socket transport settings from Gateway:Sockets (IOQueueCount, WaitForDataBeforeAllocatingBuffer, ...),
        // which ASP.NET Core does not bind by itself. The defaults stay Kestrel's (one IOQueue per core): on a quiet
        // 2-core machine, paired against IOQueueCount=0, they cost the same CPU per request (27.1 vs 28.5 us) and held a
        // lower open-loop p99 in 8 of 9 pairs at 4,000 and 8,000 req/s (bench/README.md, "Round 4"); IOQueueCount=0 won
        // the closed loop on a busier machine. Gateway:Sockets:IOQueueCount=0 is the switch.
        builder.Services.Configure<SocketTransportOptions>(builder.Configuration.GetSection(SocketsSectionName));
        if (options.InlineScheduling)
        {
            PreferInlineScheduling(builder.Services);
        }
    }

    /// <summary>The configuration section bound to Kestrel's <see cref="SocketTransportOptions"/>.</summary>
    public const string SocketsSectionName = GatewayOptions.SectionName + ":Sockets";

    /// <summary>The runtime's switch for running socket completions on the socket threads; read from the environment only.</summary>
    public const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// <see cref="GatewayOptions.InlineScheduling"/>: Kestrel continues a request on the thread its bytes arrived on, and
    /// the runtime completes socket operations (Kestrel's and the forwarder's) on its socket threads, one per core, so a
    /// proxied request no longer hops to the thread pool at each read and write.
    /// </summary>
    private static void PreferInlineScheduling(IServiceCollection services)
    {
        services.Configure<SocketTransportOptions>(transport => transport.UnsafePreferInlineScheduling = true);

        // .NET 10 has no runtimeconfig or AppContext switch for this (System.Net.Sockets reads only the variable), and
        // reads it once, when the process starts its first asynchronous socket operation: none has started while
        // services are being registered. A value already in the environment (e.g. 0) wins.
        if (Environment.GetEnvironmentVariable(InlineCompletionsVariable) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletionsVariable, "1");
        }
    }

    private static void AddRoutingStream(IServiceCollection services)
    {
        // ServiceDefaults puts the standard resilience handler on every client; its 10 s attempt and 30 s total
        // timeouts would cut a stream that is meant to stay open, and its retries would hide outages. The reporter
        // retries by itself, always with the latest revision, so a retry handler would only resend stale reports.
        // RemoveAllResilienceHandlers is marked experimental (EXTEXP0001) in 10.x but is the documented way to opt
        // one client out of ConfigureHttpClientDefaults; a test pins the resulting handler chain.
#pragma warning disable EXTEXP0001
        services.AddHttpClient(RoutingStreamClient.HttpClientName)
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllResilienceHandlers();
        services.AddHttpClient(RoutingReporter.HttpClientName)
            .ConfigureHttpClient(client => client.Timeout = TimeSpan.FromSeconds(2))
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001

        services.AddSingleton<RoutingReporter>();
        services.AddHostedService(sp => sp.GetRequiredService<RoutingReporter>());

        services.AddSingleton<RoutingStreamClient>();
        services.AddSingleton<IRoutingStreamStatus>(sp => sp.GetRequiredService<RoutingStreamClient>());
        services.AddHostedService(sp => sp.GetRequiredService<RoutingStreamClient>());
        services.AddHealthChecks().AddCheck<RoutingStreamHealthCheck>(RoutingStreamHealthCheck.Name);
    }
}
