using Microsoft.Extensions.DependencyInjection.Extensions;
using RolloutApi.Storage;

namespace RolloutApi.Flags;

/// <summary>Wires remote feature flags into RolloutApi: <c>services.AddFlagsFeature()</c>, then <c>app.MapFlagsApi()</c>.</summary>
public static class FlagsServiceCollectionExtensions
{
    /// <summary>
    /// The <c>flags</c> schema, the transition participant that makes flags follow revisions, the stores, the snapshot
    /// broadcaster and the operations. Idempotent; needs RolloutApi's storage (<c>AddApplicationServices</c>).
    /// </summary>
    public static IServiceCollection AddFlagsFeature(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISchemaContributor, FlagsSchema>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITransitionParticipant, FlagTransitionParticipant>());
        services.TryAddSingleton<FlagSetStore>();
        services.TryAddSingleton<FlagSnapshotBroadcaster>();
        services.TryAddSingleton<FlagSnapshotWriter>();
        services.TryAddSingleton<FlagQueries>();
        services.TryAddSingleton<FlagService>();
        // A hosted service registered after storage's DatabaseInitializer: the agents exist when it runs.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ShippedFlagsSeeder>());
        return services;
    }
}
