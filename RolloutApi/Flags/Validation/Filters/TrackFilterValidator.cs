using AgentAspire.Contracts;
using Microsoft.Extensions.Configuration;
using RolloutApi.Model;

namespace RolloutApi.Flags.Validation.Filters;

/// <summary><c>AgentAspire.Track</c>: known tracks and/or valid version labels, at least one of them.</summary>
public sealed class TrackFilterValidator : IFlagFilterValidator
{
    public string Name => FlagFilterNames.Track;

    public ValueTask<string?> CheckAsync(IConfiguration parameters, CancellationToken cancellationToken)
    {
        var track = parameters.Get<TrackFilterSettings>() ?? new TrackFilterSettings();
        if (track.Tracks is not { Length: > 0 } && track.Versions is not { Length: > 0 })
        {
            return Problem($"Name '{FlagFilterNames.TracksParameter}' and/or '{FlagFilterNames.VersionsParameter}'; a filter with neither matches nothing.");
        }

        if (track.Tracks?.FirstOrDefault(t => !Tracks.IsKnown(t)) is { } unknownTrack)
        {
            return Problem($"'{unknownTrack}' is not a track ('{Tracks.Stable}' or '{Tracks.Canary}').");
        }

        return track.Versions?.FirstOrDefault(v => !RevisionRules.IsValidVersion(v)) is { } badVersion
            ? Problem($"'{badVersion}' is not a version label ({RevisionRules.VersionRule}).")
            : Problem(null);
    }

    private static ValueTask<string?> Problem(string? problem) => ValueTask.FromResult(problem);
}
