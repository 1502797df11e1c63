using AgentAspire.Agent.Identity;
using AgentAspire.Contracts;
using AgentWorker.Apis;
using AgentWorker.Configuration;
using AgentWorker.Processing;
using AgentWorker.Queue;
using AgentWorker.Telemetry;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement;
using ServiceDefaults.Http;

namespace AgentWorker.Extensions;

/// <summary>AgentWorker's wiring: options, processing, queue and workers, readiness, flags, and the response pipeline.</summary>
public static class Extensions
{
    // Time the host keeps after the drain for the rest of shutdown (flushing telemetry, closing connections).
    private static readonly TimeSpan ShutdownMargin = TimeSpan.FromSeconds(5);

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;

        services.AddOptions<WorkerOptions>()
            .BindConfiguration(WorkerOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WorkerOptions>, WorkerOptionsValidator>());
        // The host must wait for the drain, or it would cut the workers off before DrainTimeout.
        services.AddOptions<HostOptions>().Configure<IOptions<WorkerOptions>>((host, worker) =>
        {
            var needed = worker.Value.DrainTimeout + ShutdownMargin;
            if (host.ShutdownTimeout < needed)
            {
                host.ShutdownTimeout = needed;
            }
        });

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IRandomSource>(sp =>
            new SeededRandomSource(sp.GetRequiredService<IOptions<WorkerOptions>>().Value.Faults.Seed));

        services.AddSingleton<AgentMetrics>();
        services.AddSingleton<WorkItemParser>();
        services.AddSingleton<FaultInjector>();
        services.AddSingleton<UpstreamClient>();
        // No retries: the upstream call is a POST (not idempotent), and retries would hide from the failure counter and
        // the latency histogram exactly what a canary analysis must see. The timeout is the agent's own setting.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is the documented opt-out; still marked experimental in 10.x.
        services.AddHttpClient(UpstreamClient.HttpClientName)
            .ConfigureHttpClient((sp, client) => client.Timeout = sp.GetRequiredService<IOptions<WorkerOptions>>().Value.UpstreamTimeout)
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        services.AddSingleton<IWorkItemProcessor, WorkItemProcessor>();

        services.AddSingleton<WorkQueue>();
        services.AddSingleton<ItemStatusStore>();
        services.AddSingleton<WorkerPoolState>();
        services.AddHostedService<QueueWorkerService>();
        // No "live" tag: a process whose workers are not running is alive but not ready.
        services.AddHealthChecks().AddCheck<WorkersReadyHealthCheck>(WorkersReadyHealthCheck.Name);

        // Flags come from RolloutApi's stream (last-known copy on disk); the local feature_management section is the
        // default until the first snapshot. Code depends only on IVariantFeatureManager.
        builder.AddRemoteFeatureFlags();

        services.AddHttpProblems();
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, WorkItemJsonContext.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(1, ItemsApiJsonContext.Default);
        });

        return builder;
    }

    /// <summary>Turns unhandled exceptions and bare error statuses into problem details, never an empty or HTML body.</summary>
    public static IApplicationBuilder UseProblemDetailsErrors(this IApplicationBuilder app)
    {
        // A malformed request the server itself rejected keeps its status (e.g. 413) and says why (AddHttpProblems), not a 500.
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }
}
