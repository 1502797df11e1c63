using AgentAspire.Agent.Identity;
using AgentAspire.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.FeatureManagement;

namespace AgentAspire.Agent.Flags;

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
