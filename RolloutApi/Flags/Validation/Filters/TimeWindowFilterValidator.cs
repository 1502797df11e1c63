using AgentAspire.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.FeatureManagement.FeatureFilters;

namespace RolloutApi.Flags.Validation.Filters;

/// <summary><c>Microsoft.TimeWindow</c>: a <c>Start</c> and/or an <c>End</c> after it, and a valid recurrence.</summary>
public sealed class TimeWindowFilterValidator : IFlagFilterValidator
{
    public string Name => FlagFilterNames.TimeWindow;

    public ValueTask<string?> CheckAsync(IConfiguration parameters, CancellationToken cancellationToken)
    {
        // The library's binder also checks a recurrence and throws ArgumentException when it is invalid.
        var window = (TimeWindowFilterSettings)new TimeWindowFilter().BindParameters(parameters);
        if (window.Start is null && window.End is null)
        {
            return ValueTask.FromResult<string?>("Name 'Start' and/or 'End' (RFC 1123 dates such as \"Mon, 01 Jun 2026 00:00:00 GMT\").");
        }

        return ValueTask.FromResult(window.Start >= window.End ? "'End' must be after 'Start'." : null);
    }
}
