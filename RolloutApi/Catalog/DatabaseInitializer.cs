using Microsoft.Extensions.Options;
using RolloutApi.Hosting;
using RolloutApi.Model;
using RolloutApi.Routing;
using RolloutApi.Storage;

namespace RolloutApi.Catalog;

/// <summary>
/// Runs before the server accepts requests (and before the reconciler): migrates the schema, registers configured agents,
/// and loads the routing table into the broadcaster so that the first stream subscriber gets the persisted table.
/// </summary>
public sealed partial class DatabaseInitializer(
    SchemaMigrator migrator,
    SqliteDatabase database,
    AgentStore agents,
    RoutingTableWriter writer,
    TransitionRecorder recorder,
    RoutingTableBroadcaster broadcaster,
    IOptions<AgentCatalogOptions> catalog,
    ILogger<DatabaseInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await migrator.MigrateAsync(cancellationToken);
        foreach (var (name, settings) in catalog.Value.Agents.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            await RegisterAsync(name, settings, cancellationToken);
        }

        await using var session = await database.ReadAsync(cancellationToken);
        var table = await agents.ReadRoutingTableAsync(session, cancellationToken);
        broadcaster.Publish(table);
        Log.Ready(logger, database.FilePath, table.Agents.Count, table.Revision);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// A new agent is seeded (revision 1 = the configured stable version, weight 0). For a known agent the database keeps
    /// its state (stable revision, weight); only what configuration owns (destinations, idle canary label, image) follows it.
    /// </summary>
    private async Task RegisterAsync(string name, AgentOptions settings, CancellationToken cancellationToken)
    {
        var image = string.IsNullOrWhiteSpace(settings.Image) ? null : settings.Image;
        await using var work = await database.BeginAsync(cancellationToken);
        var existing = await agents.GetAgentAsync(work, name, cancellationToken);
        if (existing is null)
        {
            await agents.InsertAgentAsync(work, new AgentRecord(
                name, settings.Stable.Destination, settings.Canary.Destination, settings.Canary.Version, image,
                StableRevision: 1, LastRevision: 1, Weight: 0, RouteRevision: 0, work.Now), cancellationToken);
            await agents.InsertRevisionAsync(work, new RevisionRecord(
                name, 1, settings.Stable.Version, settings.Stable.SeedImageTag, work.Now, SystemActors.Configuration), cancellationToken);
            await writer.ApplyAsync(work, name, before: null, cancellationToken);
            await recorder.RecordAsync(work, new Transition(
                name, TransitionActions.AgentRegistered, SystemActors.Configuration,
                $"Registered from configuration with revision 1 (version {settings.Stable.Version}) on the stable track.",
                null, null, new TransitionPoint(null, null, 0)), cancellationToken);
            await work.CommitAsync(cancellationToken);
            Log.Registered(logger, name, settings.Stable.Version);
            return;
        }

        if (existing.StableDestination == settings.Stable.Destination
            && existing.CanaryDestination == settings.Canary.Destination
            && existing.IdleCanaryVersion == settings.Canary.Version
            && existing.Image == image)
        {
            return;
        }

        var before = await writer.ReadAsync(work, name, cancellationToken);
        await agents.UpdateConfigurationAsync(
            work, name, settings.Stable.Destination, settings.Canary.Destination, settings.Canary.Version, image, cancellationToken);
        await writer.ApplyAsync(work, name, before, cancellationToken);
        await recorder.RecordAsync(work, new Transition(
            name, TransitionActions.AgentReconfigured, SystemActors.Configuration,
            "Destinations, idle canary version or image changed in configuration.",
            null, new TransitionPoint(null, null, existing.Weight), new TransitionPoint(null, null, existing.Weight)), cancellationToken);
        await work.CommitAsync(cancellationToken);
        Log.Reconfigured(logger, name);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3300, Level = LogLevel.Information, Message = "Registered agent {Agent} with stable version {Version}")]
        public static partial void Registered(ILogger logger, string agent, string version);

        [LoggerMessage(EventId = 3301, Level = LogLevel.Information, Message = "Agent {Agent} picked up changed configuration")]
        public static partial void Reconfigured(ILogger logger, string agent);

        [LoggerMessage(EventId = 3302, Level = LogLevel.Information, Message = "Database {Path} ready: {Agents} agent(s), routing revision {Revision}")]
        public static partial void Ready(ILogger logger, string path, int agents, long revision);
    }
}
