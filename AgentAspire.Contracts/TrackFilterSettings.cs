namespace AgentAspire.Contracts;

/// <summary>
/// Parameters of the <see cref="FlagFilterNames.Track"/> filter: each list given must contain this agent's value; a
/// filter with neither list matches nothing (a flag misconfigured this way stays off rather than turning on everywhere).
/// </summary>
public sealed class TrackFilterSettings
{
    /// <summary>Tracks the flag is on for (<c>stable</c>, <c>canary</c>); null or empty means any track.</summary>
    public string[]? Tracks { get; set; }

    /// <summary>Version labels the flag is on for (e.g. <c>1.1.0</c>); null or empty means any version.</summary>
    public string[]? Versions { get; set; }

    public bool Matches(string track, string version)
    {
        var hasTracks = Tracks is { Length: > 0 };
        var hasVersions = Versions is { Length: > 0 };
        return (hasTracks || hasVersions)
            && (!hasTracks || Tracks!.Contains(track, StringComparer.OrdinalIgnoreCase))
            && (!hasVersions || Versions!.Contains(version, StringComparer.OrdinalIgnoreCase));
    }
}
