using AgentAspire.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.FeatureManagement;

namespace ServiceDefaults.Flags;

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

/// <summary>
/// Turns a flag on by where this agent runs: its track and its current version label (read per evaluation, since a
/// promotion can change the label at run time).
/// </summary>
[FilterAlias(FlagFilterNames.Track)]
internal sealed class TrackFilter(IAgentIdentity identity) : IFeatureFilter, IFilterParametersBinder
{
    public object BindParameters(IConfiguration parameters) =>
        parameters.Get<TrackFilterSettings>() ?? new TrackFilterSettings();

    public Task<bool> EvaluateAsync(FeatureFilterEvaluationContext context)
    {
        var settings = context.Settings as TrackFilterSettings ?? (TrackFilterSettings)BindParameters(context.Parameters);
        return Task.FromResult(settings.Matches(identity.Track, identity.Version));
    }
}
