using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement;

namespace AgentAspire.Agent.Flags;

/// <summary>
/// Feeds Microsoft.FeatureManagement from <see cref="FlagStore"/>: the agent's local <c>feature_management</c>
/// configuration until a snapshot is in force, then that snapshot alone. Either set answers whole; the two are never
/// merged, so a flag the snapshot leaves out is off even if the shipped defaults turn it on.
/// </summary>
internal sealed class SnapshotFeatureDefinitionProvider : IFeatureDefinitionProvider, IDisposable
{
    private readonly FlagStore _store;
    private readonly ConfigurationFeatureDefinitionProvider _defaults;

    public SnapshotFeatureDefinitionProvider(
        FlagStore store,
        IConfiguration configuration,
        IOptions<ConfigurationFeatureDefinitionProviderOptions> options,
        ILoggerFactory loggerFactory)
    {
        _store = store;

        // Built as AddFeatureManagement() builds its own, so the defaults read (and reload) exactly as they would without us.
        _defaults = new ConfigurationFeatureDefinitionProvider(configuration, options.Value)
        {
            Logger = loggerFactory.CreateLogger<ConfigurationFeatureDefinitionProvider>(),
        };
    }

    public Task<FeatureDefinition> GetFeatureDefinitionAsync(string featureName) =>
        _store.State.Definitions is { } snapshot
            ? snapshot.Find(featureName)
            : _defaults.GetFeatureDefinitionAsync(featureName);

    public IAsyncEnumerable<FeatureDefinition> GetAllFeatureDefinitionsAsync() =>
        _store.State.Definitions is { } snapshot
            ? snapshot.All()
            : _defaults.GetAllFeatureDefinitionsAsync();

    public void Dispose() => _defaults.Dispose();
}
