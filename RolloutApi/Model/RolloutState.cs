using System.Text.Json.Serialization;

namespace RolloutApi.Model;

/// <summary>
/// Where a rollout stands. <see cref="Progressing"/>, <see cref="Paused"/> and <see cref="Analyzing"/> are active (at most one
/// per agent); <see cref="Promoted"/>, <see cref="Aborted"/> and <see cref="RolledBack"/> are final (an aborted rollout can be retried).
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<RolloutState>))]
public enum RolloutState
{
    Progressing,
    Paused,
    Analyzing,
    Promoted,
    Aborted,
    RolledBack,
}

/// <summary>Helpers over <see cref="RolloutState"/>, including the SQL spelling of "active".</summary>
public static class RolloutStates
{
    /// <summary>For <c>state IN (...)</c> in SQL; the schema's partial unique index uses the same list.</summary>
    public const string ActiveSqlList = "'Progressing', 'Paused', 'Analyzing'";

    public static bool IsActive(this RolloutState state) => state is RolloutState.Progressing or RolloutState.Paused or RolloutState.Analyzing;

    public static RolloutState Parse(string text) => Enum.Parse<RolloutState>(text, ignoreCase: false);
}
