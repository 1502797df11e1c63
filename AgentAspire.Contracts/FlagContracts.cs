using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentAspire.Contracts;

/// <summary>
/// The flag set RolloutApi publishes for one agent on one track, and the whole of what that track evaluates: a
/// snapshot replaces the agent's shipped defaults, it is never merged with them.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Version"/> only grows per agent (every flag change, on any track, takes the next number); it is the
/// snapshot's ETag and its server-sent event id. A consumer ignores a snapshot older than the one it holds.
/// </para>
/// <para>
/// <see cref="FeatureManagement"/> is Microsoft.FeatureManagement's <c>feature_management</c> object, carried verbatim:
/// <c>{"feature_flags":[{"id","enabled","conditions":{"client_filters":[{"name","parameters"}],"requirement_type"},
/// "variants":[{"name","configuration_value","status_override"}],"allocation":{...},"telemetry":{...}}]}</c>.
/// Filter names are in <see cref="FlagFilterNames"/>.
/// </para>
/// </remarks>
public sealed record FlagSnapshot(
    [property: JsonPropertyName("agent")] string Agent,
    [property: JsonPropertyName("track")] string Track,
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("revision")] int? Revision,
    [property: JsonPropertyName("versionLabel")] string? VersionLabel,
    [property: JsonPropertyName(FlagSchema.Section)] JsonElement FeatureManagement);

/// <summary>Names from Microsoft.FeatureManagement's <c>feature_management</c> schema that producers and tests use.</summary>
public static class FlagSchema
{
    public const string Section = "feature_management";
    public const string FeatureFlags = "feature_flags";
}

/// <summary>
/// The read-only flag endpoints RolloutApi serves to agents; both take the viewer's <see cref="AgentHeaders.ApiKey"/>.
/// </summary>
/// <remarks>
/// <c>GET /api/agents/{agent}/flags?track={track}</c> returns the current <see cref="FlagSnapshot"/> with
/// <c>ETag: "{version}"</c>. <c>GET /api/agents/{agent}/flags/stream?track={track}</c> is <c>text/event-stream</c>:
/// the current snapshot first, then one event per change (event <see cref="EventName"/>, id = version, data = the
/// snapshot as JSON). A comment line every few seconds (<c>: keep-alive</c>) keeps idle connections from being cut.
/// </remarks>
public static class FlagApiPaths
{
    public const string Snapshot = "/api/agents/{agent}/flags";
    public const string Stream = "/api/agents/{agent}/flags/stream";
    public const string TrackParameter = "track";
    public const string EventName = "flags";
    public const string EventStreamContentType = "text/event-stream";

    public static string SnapshotFor(string agent, string track) =>
        $"/api/agents/{Uri.EscapeDataString(agent)}/flags?{TrackParameter}={Uri.EscapeDataString(track)}";

    public static string StreamFor(string agent, string track) =>
        $"/api/agents/{Uri.EscapeDataString(agent)}/flags/stream?{TrackParameter}={Uri.EscapeDataString(track)}";
}

/// <summary>The feature filter names an agent understands (<c>client_filters[].name</c>).</summary>
public static class FlagFilterNames
{
    /// <summary>On for the listed tracks and/or version labels: parameters <c>{"Tracks":["canary"],"Versions":["1.1.0"]}</c>.</summary>
    public const string Track = "AgentAspire.Track";

    /// <summary>On for a random share of evaluations: parameters <c>{"Value":25}</c>.</summary>
    public const string Percentage = "Microsoft.Percentage";

    /// <summary>
    /// On for listed users and groups (tenants) and a sticky share of the rest: parameters
    /// <c>{"Audience":{"Users":[],"Groups":[{"Name":"acme","RolloutPercentage":100}],"DefaultRolloutPercentage":0}}</c>.
    /// </summary>
    public const string Targeting = "Microsoft.Targeting";

    /// <summary>On between <c>Start</c> and <c>End</c> (RFC 1123 dates).</summary>
    public const string TimeWindow = "Microsoft.TimeWindow";

    /// <summary>The list of tracks in <see cref="Track"/>'s parameters.</summary>
    public const string TracksParameter = "Tracks";

    /// <summary>The list of version labels in <see cref="Track"/>'s parameters.</summary>
    public const string VersionsParameter = "Versions";
}

/// <summary>Request headers an agent's flag targeting reads (<see cref="FlagFilterNames.Targeting"/>).</summary>
public static class FlagTargetingHeaders
{
    /// <summary>The caller's tenant: a targeting group.</summary>
    public const string Tenant = "X-Tenant";

    /// <summary>The caller's user id: the targeting user, and the key percentage rollouts hash.</summary>
    public const string User = "X-User";
}
