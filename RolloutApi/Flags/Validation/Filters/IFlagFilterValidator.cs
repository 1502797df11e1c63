using Microsoft.Extensions.Configuration;

namespace RolloutApi.Flags.Validation.Filters;

/// <summary>
/// Checks one client filter's parameters the way an agent's Microsoft.FeatureManagement will bind them, so that a flag an
/// agent could not evaluate is refused when it is written. One implementation per filter agents have, found by
/// <see cref="Name"/> in <see cref="FlagFilterValidators"/>.
/// </summary>
public interface IFlagFilterValidator
{
    /// <summary>The filter name as the schema spells it (<c>FlagFilterNames</c>).</summary>
    string Name { get; }

    /// <summary>The problem with <paramref name="parameters"/> in words, or null when an agent can evaluate them.</summary>
    /// <remarks>May throw what the library's binder throws; the caller reports the exception's message.</remarks>
    ValueTask<string?> CheckAsync(IConfiguration parameters, CancellationToken cancellationToken);
}
