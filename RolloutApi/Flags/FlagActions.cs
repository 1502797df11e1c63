using AgentAspire.Contracts;

namespace RolloutApi.Flags;

/// <summary>The audit actions of flag changes (besides the rollout transitions flags follow).</summary>
public static class FlagActions
{
    /// <summary>A revision's flag set was written (once: revisions are immutable).</summary>
    public const string RevisionFlagsSet = "RevisionFlagsSet";

    /// <summary>The agent-level flag definitions were replaced.</summary>
    public const string DefinitionsSet = "FlagDefinitionsSet";

    /// <summary>A kill switch was turned on (one flag, or every flag: <see cref="FlagKill.EveryFlag"/>).</summary>
    public const string FlagKilled = "FlagKilled";

    /// <summary>A kill switch was turned off again.</summary>
    public const string FlagRestored = "FlagRestored";

    /// <summary>Whether <paramref name="action"/> is a change to the flag configuration itself (it always takes a new version).</summary>
    public static bool IsFlagAction(string action) => action is RevisionFlagsSet or DefinitionsSet or FlagKilled or FlagRestored;
}

/// <summary>
/// Where a kill switch applies: everywhere (neither set), on one track, or wherever one revision's flag set is served.
/// </summary>
public readonly record struct FlagScope(string? Track, int? Revision)
{
    public static FlagScope Everywhere => default;

    public bool AppliesTo(string track, int? revision) =>
        (Track is null && Revision is null)
        || (Track is not null && string.Equals(Track, track, StringComparison.Ordinal))
        || (Revision is not null && Revision == revision);

    public string Describe() => this switch
    {
        { Track: { } track } => $"on the {track} track",
        { Revision: { } revision } => $"for revision {revision}",
        _ => "everywhere",
    };

    /// <summary>Checks a scope from a request: at most one of track and revision, a known track, a positive revision.</summary>
    public static Dictionary<string, string[]> Validate(string? track, int? revision)
    {
        var errors = new Dictionary<string, string[]>();
        if (track is not null && revision is not null)
        {
            errors["scope"] = ["Name a track or a revision, not both (neither means everywhere)."];
        }

        if (track is not null && !Tracks.IsKnown(track))
        {
            errors["track"] = [$"track must be '{Tracks.Stable}' or '{Tracks.Canary}'."];
        }

        if (revision is <= 0)
        {
            errors["revision"] = ["revision must be a positive revision number."];
        }

        return errors;
    }
}

/// <summary>One kill switch as stored.</summary>
public sealed record FlagKill(string Flag, FlagScope Scope, DateTimeOffset At, string By, string Reason)
{
    /// <summary>The flag name of a kill switch that turns every flag off.</summary>
    public const string EveryFlag = "*";

    public bool Kills(string flag, string track, int? revision) =>
        (Flag == EveryFlag || string.Equals(Flag, flag, StringComparison.OrdinalIgnoreCase)) && Scope.AppliesTo(track, revision);
}
