using System.Globalization;
using System.Text.Json.Serialization;
using AgentAspire.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace AgentAspire.Agent.Identity;

/// <summary>
/// The agent's own word on who answered: identity headers on every response (errors and probes included) and
/// <c>GET /identity</c>. Set here, in the agent library, so that every agent built on it has them; the gateway
/// compares them with the track it chose.
/// </summary>
public static class AgentIdentityEndpoints
{
    public const string IdentityPath = AgentPaths.Identity;

    /// <summary>Maps <c>GET /identity</c> when the process has an agent identity; a no-op otherwise.</summary>
    public static IEndpointRouteBuilder MapAgentIdentity(this IEndpointRouteBuilder app)
    {
        if (app.ServiceProvider.GetService<IAgentIdentity>() is null)
        {
            return app;
        }

        app.MapGet(IdentityPath, GetIdentity)
            .WithName("GetAgentIdentity")
            .WithSummary("Who this agent process is: agent, track, version, revision, build and process.")
            .WithTags("Identity");
        return app;
    }

    public static Ok<AgentIdentityDocument> GetIdentity(IAgentIdentity identity) =>
        TypedResults.Ok(AgentIdentityDocument.Of(identity));

    /// <summary>Writes the identity headers when the response starts (not before: the exception handler clears headers).</summary>
    internal static void Stamp(IHeaderDictionary headers, IAgentIdentity identity)
    {
        headers[AgentHeaders.Agent] = identity.Agent;
        headers[AgentHeaders.Track] = identity.Track;
        headers[AgentHeaders.Version] = identity.Version;
        headers[AgentHeaders.Build] = identity.Build;
        headers[AgentHeaders.Instance] = identity.Instance;
        if (identity.Revision is { } revision)
        {
            headers[AgentHeaders.Revision] = revision.ToString(CultureInfo.InvariantCulture);
        }
    }
}

/// <summary><c>GET /identity</c>: the agent process's own description of itself.</summary>
public sealed record AgentIdentityDocument(
    [property: JsonPropertyName("agent")] string Agent,
    [property: JsonPropertyName("track")] string Track,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("revision")] int? Revision,
    [property: JsonPropertyName("build")] string Build,
    [property: JsonPropertyName("instance")] string Instance,
    [property: JsonPropertyName("processId")] int ProcessId,
    [property: JsonPropertyName("startedAt")] DateTimeOffset StartedAt)
{
    public static AgentIdentityDocument Of(IAgentIdentity identity) => new(
        identity.Agent, identity.Track, identity.Version, identity.Revision, identity.Build, identity.Instance,
        identity.ProcessId, identity.StartedAt);
}

/// <summary>Puts the identity stamp first in the pipeline, so that every response carries it, whatever the app maps.</summary>
internal sealed class AgentIdentityStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        var identity = app.ApplicationServices.GetRequiredService<IAgentIdentity>();
        app.Use((context, nextMiddleware) =>
        {
            var response = context.Response;
            response.OnStarting(static state =>
            {
                var (headers, identity) = ((IHeaderDictionary, IAgentIdentity))state;
                AgentIdentityEndpoints.Stamp(headers, identity);
                return Task.CompletedTask;
            }, (response.Headers, identity));
            return nextMiddleware(context);
        });
        next(app);
    };
}
