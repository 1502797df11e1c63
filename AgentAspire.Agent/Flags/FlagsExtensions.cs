using AgentAspire.Agent.Flags;
using AgentAspire.Agent.Identity;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;
using OpenTelemetry.Metrics;

namespace Microsoft.Extensions.Hosting;

/// <summary>Wires an agent's flags: Microsoft.FeatureManagement fed by RolloutApi's flag stream. See Flags/README.md.</summary>
public static class FlagsExtensions
{
    /// <summary>
    /// Registers remote feature flags for this agent: <see cref="IFeatureManager"/> / <see cref="IVariantFeatureManager"/>
    /// evaluating the local <c>feature_management</c> defaults until RolloutApi's snapshot arrives and that snapshot
    /// after; the stream client, the last-known copy on disk, the readiness check, the track, percentage and targeting
    /// filters and <see cref="IFlagEvaluationRecorder"/>. Safe to combine with <c>AddFeatureManagement()</c> before or
    /// after, and to call twice. Adds the agent identity if it is not registered yet.
    /// </summary>
    public static TBuilder AddRemoteFeatureFlags<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(FlagStore)))
        {
            return builder;
        }

        if (!services.Any(d => d.ServiceType == typeof(IAgentIdentity)))
        {
            builder.AddAgentIdentity();
        }

        services.AddOptions<FlagsOptions>().BindConfiguration(FlagsOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FlagsOptions>, FlagsOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        // The reconnect jitter's randomness (Random.Shared is thread-safe); tests replace it with a seeded instance.
        services.TryAddSingleton(Random.Shared);
        services.AddHttpContextAccessor();
        services.AddMetrics();

        services.AddSingleton<FlagStore>();
        services.AddSingleton<IFlagSnapshotStore>(sp => sp.GetRequiredService<FlagStore>());
        services.AddSingleton<FlagSnapshotCache>();
        services.AddSingleton<FlagStreamStatus>();
        services.AddSingleton<IFlagEvaluationRecorder, FlagEvaluationRecorder>();

        // One provider decides which set is in force (defaults, then the snapshot alone). AddFeatureManagement() only
        // TryAdds its configuration provider, so an agent's own call, before or after this one, cannot displace it.
        services.RemoveAll<IFeatureDefinitionProvider>();
        services.AddSingleton<IFeatureDefinitionProvider, SnapshotFeatureDefinitionProvider>();

        // Filters are registered once per type however often AddFeatureManagement() runs; the targeting accessor is a
        // TryAdd, so an agent that registered its own keeps it.
        services.AddFeatureManagement()
            .AddFeatureFilter<TrackFilter>()
            .WithTargeting<HeaderTargetingContextAccessor>();

        // Evaluation never throws: the interfaces resolve to a guard around a FeatureManager of our own. The library
        // TryAdds these two, so a later AddFeatureManagement() keeps the guard.
        services.RemoveAll<IFeatureManager>();
        services.RemoveAll<IVariantFeatureManager>();
        services.AddSingleton(sp => new SafeFeatureManager(
            CreateFeatureManager(sp), sp.GetRequiredService<FlagStore>(), sp.GetRequiredService<ILogger<SafeFeatureManager>>()));
        services.AddSingleton<IFeatureManager>(sp => sp.GetRequiredService<SafeFeatureManager>());
        services.AddSingleton<IVariantFeatureManager>(sp => sp.GetRequiredService<SafeFeatureManager>());

        // The stream never ends on its own: no total timeout, no retry/circuit handler from ConfigureHttpClientDefaults
        // (reconnects have their own backoff). Service discovery, also from the defaults, still resolves the base address.
        // RemoveAllResilienceHandlers is the documented way to opt one client out of those defaults; it is still
        // marked experimental (EXTEXP0001) in Microsoft.Extensions.Http.Resilience 10.11.0.
#pragma warning disable EXTEXP0001
        services.AddHttpClient(FlagStreamClient.HttpClientName)
            .ConfigureHttpClient((sp, client) =>
            {
                client.BaseAddress = new Uri(sp.GetRequiredService<IOptions<FlagsOptions>>().Value.RolloutApi);
                client.Timeout = Timeout.InfiniteTimeSpan;
            })
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001

        services.AddHostedService<FlagStreamClient>();
        services.AddHealthChecks().AddCheck<FlagReadinessHealthCheck>(FlagReadinessHealthCheck.Name, tags: [Extensions.StartupTag]);
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddMeter(FlagTelemetryNames.MeterName));
        return builder;
    }

    // As AddFeatureManagement() builds its FeatureManager, with one difference: each filter type counts once. The
    // library registers TimeWindowFilter through a factory its duplicate check cannot see, so every further
    // AddFeatureManagement() call adds another, and "Microsoft.TimeWindow" flags then fail as ambiguous.
    private static FeatureManager CreateFeatureManager(IServiceProvider sp) =>
        new(sp.GetRequiredService<IFeatureDefinitionProvider>(), sp.GetRequiredService<IOptions<FeatureManagementOptions>>().Value)
        {
            FeatureFilters = sp.GetServices<IFeatureFilterMetadata>().DistinctBy(filter => filter.GetType()).ToArray(),
            SessionManagers = sp.GetServices<ISessionManager>(),
            Cache = sp.GetRequiredService<IMemoryCache>(),
            Logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger<FeatureManager>(),
            TargetingContextAccessor = sp.GetService<ITargetingContextAccessor>(),
            AssignerOptions = sp.GetRequiredService<IOptions<TargetingEvaluationOptions>>().Value,
        };
}
