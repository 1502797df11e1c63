using System.Text.Json;
using System.Text.Json.Serialization;
using AgentAspire.Contracts;

namespace RolloutApi.Flags;

/// <summary>
/// The body of <c>PUT /api/agents/{agent}/revisions/{revision}/flags</c> and <c>PUT /api/agents/{agent}/flags/definitions</c>:
/// a <c>feature_management</c> object (Microsoft.FeatureManagement's schema) and why.
/// </summary>
public sealed record FlagSetRequest(
    [property: JsonPropertyName(FlagSchema.Section)] JsonElement FeatureManagement,
    string? Reason = null);

/// <summary>
/// The optional body of the kill-switch calls: the scope (a <see cref="Track"/>, a <see cref="Revision"/>, or neither for
/// everywhere) and why.
/// </summary>
public sealed record FlagKillRequest(string? Track = null, int? Revision = null, string? Reason = null);

/// <summary>The flag set a revision ships.</summary>
public sealed record RevisionFlagsView(
    string Agent,
    int Revision,
    [property: JsonPropertyName(FlagSchema.Section)] JsonElement FeatureManagement,
    DateTimeOffset CreatedAt,
    string CreatedBy)
{
    public static RevisionFlagsView From(RevisionFlagSet set) => new(set.Agent, set.Revision, set.Document.Element, set.CreatedAt, set.CreatedBy);
}

/// <summary>The agent-level flag definitions (they override a revision's flag of the same id on every track).</summary>
/// <param name="Version">The agent's flag version: the ETag (If-Match) of every flag mutation.</param>
public sealed record FlagDefinitionsView(
    string Agent,
    long Version,
    [property: JsonPropertyName(FlagSchema.Section)] JsonElement FeatureManagement,
    DateTimeOffset? UpdatedAt,
    string? UpdatedBy);

/// <summary>One kill switch: the flag (<c>*</c> = every flag) and its scope (neither track nor revision = everywhere).</summary>
public sealed record FlagKillView(string Flag, string? Track, int? Revision, DateTimeOffset At, string By, string Reason)
{
    public static FlagKillView From(FlagKill kill) => new(kill.Flag, kill.Scope.Track, kill.Scope.Revision, kill.At, kill.By, kill.Reason);
}

/// <summary>The agent's kill switches, oldest first, with the agent's flag version.</summary>
public sealed record FlagKillsView(string Agent, long Version, IReadOnlyList<FlagKillView> Kills);

/// <summary>
/// The answer to a kill-switch call: the switch's state, whether this call changed it, the agent's flag version after it,
/// and both tracks' snapshots as stream subscribers have received them by the time this answer is sent.
/// </summary>
public sealed record FlagKillResult(
    string Agent,
    string Flag,
    string? Track,
    int? Revision,
    bool Killed,
    bool Changed,
    long Version,
    IReadOnlyList<FlagSnapshot> Snapshots);
