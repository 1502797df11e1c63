using System.Text.Json.Serialization;
using AgentAspire.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace AgentAspire.Agent.Flags;

/// <summary>
/// <c>GET /identity/flags</c>: the agent process's own word on the flags it evaluates — where they came from, which
/// version, and whether its stream to RolloutApi is open — so that an operator (or a test) can tell an agent serving
/// RolloutApi's flags from one on its shipped defaults, and see it ride out a RolloutApi outage and reconnect, without
/// trusting RolloutApi's view. Status only: the definitions (targeting lists included) are never shown here, since the
/// gateway proxies every agent path to anonymous clients.
/// </summary>
public static class FlagStatusEndpoints
{
    public const string FlagsPath = AgentPaths.Flags;

    /// <summary>Maps <c>GET /identity/flags</c> when the process has remote flags (AddRemoteFeatureFlags); a no-op otherwise.</summary>
    public static IEndpointRouteBuilder MapAgentFlagStatus(this IEndpointRouteBuilder app)
    {
        if (app.ServiceProvider.GetService<FlagStore>() is null)
        {
            return app;
        }

        app.MapGet(FlagsPath, GetFlagStatus)
            .WithName("GetAgentFlagStatus")
            .WithSummary("The flags this agent process has in force: source (Defaults, LastKnown, Remote), version, revision, and its stream's state.")
            .WithTags("Identity");
        return app;
    }

    internal static Ok<AgentFlagStatus> GetFlagStatus(HttpContext context)
    {
        var services = context.RequestServices;
        return TypedResults.Ok(AgentFlagStatus.Of(services.GetRequiredService<FlagStore>().State, services.GetRequiredService<FlagStreamStatus>()));
    }
}

/// <summary><c>GET /identity/flags</c>: the flag snapshot in force in this process and the state of its stream.</summary>
/// <param name="Source">Defaults (the agent's shipped <c>feature_management</c>), LastKnown (the copy on disk) or Remote (RolloutApi, this run).</param>
/// <param name="Version">The snapshot's version (RolloutApi's per-agent flag version); 0 on the shipped defaults.</param>
/// <param name="Connected">True while a stream to RolloutApi is open and has delivered a snapshot.</param>
/// <param name="Connections">Stream connections that delivered a snapshot since start: above 1, the agent reconnected.</param>
public sealed record AgentFlagStatus(
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("revision")] int? Revision,
    [property: JsonPropertyName("versionLabel")] string? VersionLabel,
    [property: JsonPropertyName("connected")] bool Connected,
    [property: JsonPropertyName("connections")] long Connections)
{
    internal static AgentFlagStatus Of(FlagState state, FlagStreamStatus stream) => new(
        state.Source.ToString(),
        state.Snapshot?.Version ?? 0,
        state.Snapshot?.Revision,
        state.Snapshot?.VersionLabel,
        stream.Connected,
        stream.Connections);
}
