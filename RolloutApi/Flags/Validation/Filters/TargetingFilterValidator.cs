using AgentAspire.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.FeatureManagement.FeatureFilters;
using Microsoft.FeatureManagement;

namespace RolloutApi.Flags.Validation.Filters;

/// <summary><c>Microsoft.Targeting</c>: an <c>Audience</c> the library accepts when it evaluates it.</summary>
public sealed class TargetingFilterValidator : IFlagFilterValidator
{
    public string Name => FlagFilterNames.Targeting;

    public async ValueTask<string?> CheckAsync(IConfiguration parameters, CancellationToken cancellationToken)
    {
        var targeting = new ContextualTargetingFilter();
        var settings = (TargetingFilterSettings)targeting.BindParameters(parameters);
        if (settings.Audience is null)
        {
            return "'Audience' is required: {\"Users\": [], \"Groups\": [{\"Name\": \"acme\", \"RolloutPercentage\": 100}], \"DefaultRolloutPercentage\": 0}.";
        }

        // The library validates targeting settings when it evaluates them (percentages in range, ...): a probe
        // evaluation throws ArgumentException exactly where an agent's evaluation would.
        _ = await targeting.EvaluateAsync(
            new FeatureFilterEvaluationContext { FeatureName = "validation", Parameters = parameters, Settings = settings },
            new TargetingContext { UserId = "validation", Groups = [] });
        return null;
    }
}
