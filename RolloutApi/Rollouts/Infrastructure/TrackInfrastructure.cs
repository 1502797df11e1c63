using System.Collections.Concurrent;
using AgentAspire.Contracts;
using Microsoft.Extensions.Options;
using RolloutApi.Drivers;
using RolloutApi.Hosting;

namespace RolloutApi.Rollouts.Infrastructure;

/// <summary>
/// Makes the tracks match persisted state through the configured <see cref="ITrackDriver"/>, remembering what it last applied
/// so that an unchanged state costs no driver call. The memory is per process: after a restart everything is applied once
/// more, which is safe because drivers are idempotent; that is how a crash between a driver call and its commit heals.
/// </summary>
public sealed partial class TrackInfrastructure(SelectedTrackDriver selected, IOptions<RolloutApiOptions> options, ILogger<TrackInfrastructure> logger)
{
    // Weight is remembered per agent beside the two tracks.
    private const string WeightKey = "weight";

    private readonly ConcurrentDictionary<(string Agent, string Track), string> _applied = new();

    /// <summary>The stable track runs <paramref name="revision"/>.</summary>
    public Task EnsureStableAsync(RevisionSpec revision, CancellationToken cancellationToken) =>
        ApplyAsync(revision.Agent, Tracks.Stable, $"run revision {revision.Number}",
            () => selected.Driver.DeployAsync(Tracks.Stable, revision, cancellationToken));

    /// <summary>The canary track runs <paramref name="revision"/> with its configured replicas.</summary>
    public Task EnsureCanaryAsync(RevisionSpec revision, CancellationToken cancellationToken)
    {
        var replicas = options.Value.CanaryReplicas;
        return ApplyAsync(revision.Agent, Tracks.Canary, $"run revision {revision.Number} x{replicas}", async () =>
        {
            await selected.Driver.DeployAsync(Tracks.Canary, revision, cancellationToken);
            await selected.Driver.ScaleAsync(revision.Agent, Tracks.Canary, replicas, cancellationToken);
        });
    }

    /// <summary>Whether moving a track from <paramref name="running"/> to <paramref name="next"/> stops its process (see <see cref="ITrackDriver.RestartsToRun"/>).</summary>
    public bool RestartsToRun(RevisionSpec running, RevisionSpec next) => selected.Driver.RestartsToRun(running, next);

    /// <summary>The canary track is idle (scaled to zero where the driver scales).</summary>
    public Task EnsureCanaryIdleAsync(string agent, CancellationToken cancellationToken) =>
        ApplyAsync(agent, Tracks.Canary, "idle", () => selected.Driver.ScaleAsync(agent, Tracks.Canary, 0, cancellationToken));

    /// <summary>Tells the driver the agent's committed canary weight (replica-ratio drivers scale to it; others ignore it).</summary>
    public Task EnsureWeightAsync(string agent, int weight, CancellationToken cancellationToken) =>
        ApplyAsync(agent, WeightKey, $"weight {weight}", () => selected.Driver.ApplyWeightAsync(agent, weight, cancellationToken));

    private async Task ApplyAsync(string agent, string track, string desired, Func<Task> apply)
    {
        var key = (agent, track);
        if (_applied.TryGetValue(key, out var current) && current == desired)
        {
            return;
        }

        // Forget first: if the driver fails half-way, the next pass applies again instead of trusting a stale entry.
        _applied.TryRemove(key, out _);
        await apply();
        _applied[key] = desired;
        Log.Applied(logger, selected.Driver.Name, agent, track, desired);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3021, Level = LogLevel.Information, Message = "Driver {Driver}: {Agent}/{Track} -> {Desired}")]
        public static partial void Applied(ILogger logger, string driver, string agent, string track, string desired);
    }
}
