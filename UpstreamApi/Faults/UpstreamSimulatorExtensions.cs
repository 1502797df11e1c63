using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using UpstreamApi.Apis;

namespace UpstreamApi.Faults;

/// <summary>The simulator's wiring: options, the fault table, randomness, time and its metrics.</summary>
public static class UpstreamSimulatorExtensions
{
    public static IHostApplicationBuilder AddUpstreamSimulator(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<UpstreamOptions>().BindConfiguration(UpstreamOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<UpstreamOptions>, UpstreamOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IUpstreamRandom>(sp => new UpstreamRandom(sp.GetRequiredService<IOptions<UpstreamOptions>>().Value.Seed));
        services.AddSingleton<FaultTable>();
        services.AddSingleton<UpstreamMetrics>();
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, UpstreamJsonContext.Default));
        return builder;
    }
}
