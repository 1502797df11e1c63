namespace RolloutApi.Drivers;

/// <summary>What a track driver needs to know about a revision to run it.</summary>
/// <param name="Agent">The agent, e.g. <c>agent-worker</c>.</param>
/// <param name="Number">The revision number, per agent.</param>
/// <param name="Version">The version label, e.g. <c>1.1.0</c>.</param>
/// <param name="ImageTag">The immutable container image tag (never <c>latest</c>).</param>
/// <param name="Build">A local stored build (its content hash) the revision runs, or null: see <c>Drivers/Local</c>.</param>
public sealed record RevisionSpec(string Agent, int Number, string Version, string ImageTag, string? Build = null);

/// <summary>
/// Makes the infrastructure match a rollout's decisions for one track. Chosen by name from configuration
/// (<c>Drivers:Track</c>): <c>local</c> (the default: Aspire runs both tracks, on a revision's stored build when it names
/// one, else relabelled through the routing table) or <c>kubernetes</c> (patches Deployments).
/// </summary>
/// <remarks>
/// Called by the rollout engine outside its SQLite transaction; every method is idempotent so that a reconciler
/// that crashed half-way can simply call it again.
/// </remarks>
public interface ITrackDriver
{
    /// <summary>The name configuration chooses this driver by.</summary>
    string Name { get; }

    /// <summary>Makes <paramref name="track"/> run <paramref name="revision"/> and returns once it is available.</summary>
    Task DeployAsync(string track, RevisionSpec revision, CancellationToken cancellationToken);

    /// <summary>Sets the replica count of a track (0 idles the canary after promotion or abort).</summary>
    Task ScaleAsync(string agent, string track, int replicas, CancellationToken cancellationToken);

    /// <summary>
    /// Told after every committed weight change. Drivers that split by request (the gateway does it) ignore it; a
    /// replica-ratio driver, for agents that pull work instead of receiving requests, scales the tracks to match.
    /// </summary>
    Task ApplyWeightAsync(string agent, int weight, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Whether moving a track from <paramref name="running"/> to <paramref name="next"/> stops its process (the local driver
    /// restarting a track on another build). The engine then drains the stable track through the canary first, so that no
    /// request meets a stopped process. Drivers that replace processes behind a ready check (Kubernetes) say no.
    /// </summary>
    bool RestartsToRun(RevisionSpec running, RevisionSpec next) => false;

    /// <summary>
    /// Why this driver cannot run <paramref name="revision"/>, or null when it can: asked before a revision is created, so
    /// that a revision naming a build that is not there is refused at once rather than stuck at its rollout's first step.
    /// </summary>
    Task<string?> CheckRevisionAsync(RevisionSpec revision, CancellationToken cancellationToken) =>
        Task.FromResult(revision.Build is null ? null : $"The '{Name}' track driver runs images, not local builds; give the revision an image tag.");
}
