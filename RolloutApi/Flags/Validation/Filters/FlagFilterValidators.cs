namespace RolloutApi.Flags.Validation.Filters;

/// <summary>
/// The filters agents have, by name (ignoring case, as the library matches them): the only names a flag may use. Fixed
/// rather than configurable, because what an agent can evaluate is compiled into the agent, not chosen per deployment.
/// </summary>
public static class FlagFilterValidators
{
    /// <summary>In the order error messages list them.</summary>
    public static IReadOnlyList<IFlagFilterValidator> All { get; } =
        [new TrackFilterValidator(), new PercentageFilterValidator(), new TargetingFilterValidator(), new TimeWindowFilterValidator()];

    private static readonly Dictionary<string, IFlagFilterValidator> ByName =
        All.ToDictionary(validator => validator.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>The names agents have, for messages.</summary>
    public static string Names { get; } = string.Join(", ", All.Select(validator => validator.Name));

    /// <summary>The validator of the filter <paramref name="name"/>, or null when agents have no such filter.</summary>
    public static IFlagFilterValidator? Find(string? name) =>
        name is not null && ByName.TryGetValue(name, out var validator) ? validator : null;
}
