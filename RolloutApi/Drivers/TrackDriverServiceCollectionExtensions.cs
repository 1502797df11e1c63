using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RolloutApi.Drivers.Local;

namespace RolloutApi.Drivers;

/// <summary>Registration for track drivers: each driver adds itself; configuration picks one by name.</summary>
public static class TrackDriverServiceCollectionExtensions
{
    /// <summary>
    /// Makes <typeparamref name="TDriver"/> available under its <see cref="ITrackDriver.Name"/>. A driver package's own
    /// <c>Add…TrackDriver()</c> extension calls this (plus its options); <c>Drivers:Track</c> chooses among them.
    /// </summary>
    public static IServiceCollection AddTrackDriver<TDriver>(this IServiceCollection services)
        where TDriver : class, ITrackDriver
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITrackDriver, TDriver>());
        return services;
    }

    /// <summary>The local driver and the name-based choice, validated at start against the registered drivers.</summary>
    internal static IServiceCollection AddTrackDrivers(this IServiceCollection services)
    {
        services.AddTrackDriver<LocalTrackDriver>();
        services.AddOptions<LocalTrackDriverOptions>().BindConfiguration(LocalTrackDriverOptions.SectionName)
            .Validate(o => o.ControlUrl is null || !string.IsNullOrWhiteSpace(o.Token), "Drivers:Local:ControlUrl needs Drivers:Local:Token.")
            .ValidateOnStart();
        // No resilience handler: a deploy waits up to minutes for a restart (the standard handler's total timeout is 30 s),
        // and its own deadline is the driver's.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is the documented opt-out; still marked experimental in 10.x.
        services.AddHttpClient(LocalTrackDriver.HttpClientName).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        services.AddOptions<TrackDriverOptions>()
            .BindConfiguration(TrackDriverOptions.SectionName)
            .Validate<IEnumerable<ITrackDriver>>(
                (options, drivers) => drivers.Any(d => string.Equals(d.Name, options.Track, StringComparison.OrdinalIgnoreCase)),
                "Drivers:Track names no registered track driver.")
            .ValidateOnStart();
        services.TryAddSingleton(provider =>
        {
            var name = provider.GetRequiredService<IOptions<TrackDriverOptions>>().Value.Track;
            return new SelectedTrackDriver(provider.GetServices<ITrackDriver>()
                .First(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase)));
        });
        return services;
    }
}

/// <summary>The driver configuration chose; the engine depends on this rather than on every registered driver.</summary>
public sealed record SelectedTrackDriver(ITrackDriver Driver);
