using System.Collections.Concurrent;
using AppHost.Builds;

namespace AppHost.Local;

/// <summary>What a track should run: a stored build (or the working copy when null), with its revision's label.</summary>
/// <param name="Build">The stored build's id, or null for the working copy.</param>
/// <param name="Version">The revision's version label, when a revision asked for it.</param>
/// <param name="Revision">The revision number, when a revision asked for it.</param>
public sealed record TrackTarget(string? Build, string? Version = null, int? Revision = null)
{
    public static readonly TrackTarget WorkingCopy = new((string?)null);
}

/// <summary>One start of a track's process, as its arguments were computed.</summary>
/// <param name="Sequence">Counts the starts of this track in this AppHost run (1 for the first).</param>
/// <param name="Target">What it was asked to run.</param>
/// <param name="BuildId">The build id the agent will report (<c>X-Agent-Build</c>) for what was launched.</param>
/// <param name="EntryAssembly">The dll given to <c>dotnet</c>.</param>
/// <param name="ContentRoot">The folder the agent reads its appsettings.json from.</param>
public sealed record TrackLaunch(long Sequence, TrackTarget Target, string BuildId, string EntryAssembly, string ContentRoot);

/// <summary>
/// The build each track should run and the build each was last started on. A track's command-line arguments are computed
/// from here by Aspire at every start and restart, so that changing the target and restarting the resource through Aspire
/// is all it takes to move a track onto another build.
/// </summary>
public sealed class TrackLaunches(BuildStore store, WorkingCopy workingCopy)
{
    private readonly ConcurrentDictionary<string, TrackTarget> _targets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TrackLaunch> _launched = new(StringComparer.Ordinal);
    private long _sequence;

    public BuildStore Store { get; } = store;

    public WorkingCopy WorkingCopy { get; } = workingCopy;

    /// <summary>What <paramref name="resource"/> should run (the working copy until a revision says otherwise).</summary>
    public TrackTarget TargetOf(string resource) => _targets.GetValueOrDefault(resource, TrackTarget.WorkingCopy);

    public void SetTarget(string resource, TrackTarget target) => _targets[resource] = target;

    /// <summary>The last start of <paramref name="resource"/>, or null before its first.</summary>
    public TrackLaunch? LastLaunch(string resource) => _launched.GetValueOrDefault(resource);

    /// <summary>
    /// Called from the track's arguments callback at each start: resolves the target (a stored build is verified against its
    /// hash) and records the launch. Throws when the build cannot be run, which fails that start visibly in the dashboard.
    /// </summary>
    public TrackLaunch Launch(string resource)
    {
        var target = TargetOf(resource);
        TrackLaunch launch;
        if (target.Build is { } build)
        {
            var folder = Store.Verify(build);
            launch = new TrackLaunch(Interlocked.Increment(ref _sequence), target, build, Path.Combine(folder, BuildStore.EntryAssembly), folder);
        }
        else
        {
            launch = new TrackLaunch(Interlocked.Increment(ref _sequence), target, WorkingCopy.BuildId(), WorkingCopy.EntryAssembly,
                WorkingCopy.ProjectDirectory);
        }

        _launched[resource] = launch;
        return launch;
    }
}
