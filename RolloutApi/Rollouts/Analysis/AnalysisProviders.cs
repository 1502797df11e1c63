using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RolloutApi.Model;

namespace RolloutApi.Rollouts.Analysis;

/// <summary>The registered analysis providers, by name (case-insensitive).</summary>
public sealed class AnalysisProviders(IEnumerable<IAnalysisProvider> providers, IOptions<AnalysisOptions> options)
{
    private readonly Dictionary<string, IAnalysisProvider> _byName =
        providers.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

    public bool IsKnown(string name) => _byName.ContainsKey(name);

    /// <summary>The provider for a step: its own, else the configured default.</summary>
    public IAnalysisProvider For(AnalysisStep step) =>
        _byName[step.Template is not null ? Analysis.TemplateAnalysisProvider.ProviderName : step.Provider ?? options.Value.Provider];
}

/// <summary>Registration for analysis providers.</summary>
public static class AnalysisServiceCollectionExtensions
{
    /// <summary>Makes <typeparamref name="TProvider"/> available under its <see cref="IAnalysisProvider.Name"/>.</summary>
    public static IServiceCollection AddAnalysisProvider<TProvider>(this IServiceCollection services)
        where TProvider : class, IAnalysisProvider
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAnalysisProvider, TProvider>());
        return services;
    }

    internal static IServiceCollection AddAnalysis(this IServiceCollection services)
    {
        services.AddAnalysisProvider<PassingAnalysisProvider>();
        services.AddTemplateAnalysis();
        services.AddOptions<AnalysisOptions>()
            .BindConfiguration(AnalysisOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate<IEnumerable<IAnalysisProvider>>(
                (options, providers) => providers.Any(p => string.Equals(p.Name, options.Provider, StringComparison.OrdinalIgnoreCase)),
                "Analysis:Provider names no registered analysis provider.")
            .ValidateOnStart();
        services.TryAddSingleton<AnalysisProviders>();
        return services;
    }
}
