using AgentAspire.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.FeatureManagement.FeatureFilters;

namespace RolloutApi.Flags.Validation.Filters;

/// <summary><c>Microsoft.Percentage</c>: a <c>Value</c> between 0 and 100, bound by the library's own binder.</summary>
public sealed class PercentageFilterValidator : IFlagFilterValidator
{
    public string Name => FlagFilterNames.Percentage;

    public ValueTask<string?> CheckAsync(IConfiguration parameters, CancellationToken cancellationToken)
    {
        if (parameters["Value"] is null)
        {
            return ValueTask.FromResult<string?>("'Value' (the percentage, 0-100) is required.");
        }

        var percentage = (PercentageFilterSettings)new PercentageFilter().BindParameters(parameters);
        return ValueTask.FromResult(percentage.Value is < 0 or > 100 ? "'Value' must be between 0 and 100." : null);
    }
}
