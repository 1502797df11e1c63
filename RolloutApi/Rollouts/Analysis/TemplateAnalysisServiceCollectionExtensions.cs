using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RolloutApi.Gateways;
using RolloutApi.Rollouts.Analysis.Notifications;
using RolloutApi.Rollouts.Analysis.Judges;
using RolloutApi.Storage;
using RolloutApi.Rollouts.Analysis.Sources;

namespace RolloutApi.Rollouts.Analysis;

/// <summary>Registration for template analysis: sources and judges by name, runs, background analysis and the runs' tables.</summary>
public static class TemplateAnalysisServiceCollectionExtensions
{
    /// <summary>Makes a metric source available under its <see cref="IMetricSource.Name"/>.</summary>
    public static IServiceCollection AddMetricSource<TSource>(this IServiceCollection services)
        where TSource : class, IMetricSource
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IMetricSource, TSource>());
        return services;
    }

    /// <summary>Makes a judge available under its <see cref="IAnalysisJudge.Name"/>.</summary>
    public static IServiceCollection AddAnalysisJudge<TJudge>(this IServiceCollection services)
        where TJudge : class, IAnalysisJudge
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAnalysisJudge, TJudge>());
        return services;
    }

    internal static IServiceCollection AddTemplateAnalysis(this IServiceCollection services)
    {
        services.AddGatewayStatsReader();
        services.AddOptions<PrometheusSourceOptions>().BindConfiguration(PrometheusSourceOptions.SectionName).ValidateOnStart();
        // No retries: an unreachable Prometheus makes the measurement Inconclusive now, and the next one asks again.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked experimental; ServiceDefaults uses it the same way.
        services.AddHttpClient(PrometheusMetricSource.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(10)).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        services.AddMetricSource<GatewayMetricSource>();
        services.AddMetricSource<PrometheusMetricSource>();
        services.AddAnalysisJudge<ThresholdJudge>();
        services.AddAnalysisJudge<SequentialJudge>();
        services.AddAnalysisJudge<MannWhitneyJudge>();
        services.AddAnalysisProvider<TemplateAnalysisProvider>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISchemaContributor, AnalysisSchema>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITransitionParticipant, AnalysisTransitionParticipant>());
        services.TryAddSingleton<AnalysisStore>();
        services.TryAddSingleton<AnalysisTemplates>();
        services.TryAddSingleton<AnalysisRunner>();
        services.TryAddSingleton<BackgroundAnalysis>();
        services.TryAddSingleton<AnalysisRunQueries>();

        // Notifications: every transition and run verdict as a CloudEvent, from the outbox.
        services.AddOptions<NotificationOptions>().BindConfiguration(NotificationOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NotificationOptions>, NotificationOptionsValidator>());
        services.TryAddSingleton<Outbox>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITransitionParticipant, OutboxTransitionParticipant>());
        // The outbox retries with its own backoff, durably; the default handlers' in-memory retries would only hide failures.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked experimental; ServiceDefaults uses it the same way.
        services.AddHttpClient(NotificationDispatcher.HttpClientName).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        services.AddHostedService<NotificationDispatcher>();
        return services;
    }
}
