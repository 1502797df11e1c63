using System.Security.Claims;
using AgentAspire.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using RolloutApi.Auth;
using RolloutApi.Http;
using RolloutApi.Rollouts;
using RolloutApi.Rollouts.Commands;
using RolloutApi.Routing;

namespace RolloutApi.Apis;

/// <summary>The body of <c>PUT /api/agents/{agent}/weight</c>: the canary weight in basis points (0–10,000).</summary>
public sealed record WeightRequest(int Weight);

/// <summary>The body of <c>PUT /api/agents/{agent}/forced-canary</c>: whether forced traffic may reach an aborted rollout's canary.</summary>
public sealed record ForcedCanaryRequest(bool Allowed);

/// <summary>Agents and their routes: list, read, and set the canary weight by hand.</summary>
public static class AgentsApi
{
    public static IEndpointRouteBuilder MapAgentsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/agents").WithTags("Agents").RequireAuthorization(AuthPolicies.Viewer);

        api.MapGet("", ListAgents)
            .WithName(nameof(ListAgents))
            .WithSummary("Every agent: image, stable revision, route and active rollout.");

        api.MapGet("/{agent}", GetAgent)
            .WithName(nameof(GetAgent))
            .WithSummary("One agent. The ETag is its route revision (use it as If-Match for PUT weight).")
            .ProducesProblems(StatusCodes.Status404NotFound);

        api.MapPut("/{agent}/weight", SetWeight)
            .WithName(nameof(SetWeight))
            .WithSummary("Sets the canary weight by hand (basis points, 0-10000) when no rollout drives it.")
            .WithDescription("If-Match (optional) must carry the agent's route ETag; returns the new route and its ETag, and in " +
                "Gateways-Applied / Gateways-Known / Routing-Revision how many known gateways applied it (bounded wait).")
            .RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict,
                StatusCodes.Status412PreconditionFailed);

        api.MapPut("/{agent}/forced-canary", SetForcedCanary)
            .WithName(nameof(SetForcedCanary))
            .WithSummary("After an abort, lets forced traffic (X-Agent-Track: canary) reach the canary again, or closes it again.")
            .WithDescription("The canary of an aborted rollout refuses forced traffic (the gateway answers 403) until an operator allows it here; " +
                "a retry or a new rollout opens it by itself. 409 when the newest rollout is not aborted. If-Match (optional): the route ETag.")
            .RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict,
                StatusCodes.Status412PreconditionFailed);

        return app;
    }

    public static Task<Results<Ok<AgentRoute>, ProblemHttpResult>> SetForcedCanary(
        string agent, ForcedCanaryRequest request, Precondition ifMatch, [AsParameters] RouteApiServices services) =>
        RespondAsync(services, cancellationToken =>
            services.Commands.SetForcedCanaryAsync(agent, request.Allowed, ifMatch, Actor.Of(services.User), cancellationToken));

    public static async Task<Ok<IReadOnlyList<AgentView>>> ListAgents(AgentQueries queries, CancellationToken cancellationToken) =>
        TypedResults.Ok(await queries.ListAsync(cancellationToken));

    public static async Task<Results<Ok<AgentView>, ProblemHttpResult>> GetAgent(
        string agent, AgentQueries queries, HttpResponse response, CancellationToken cancellationToken) =>
        (await queries.GetAsync(agent, cancellationToken))
            .ToResult(OperationError.AgentNotFound(agent), response, view => view.Route.Revision, view => TypedResults.Ok(view));

    public static Task<Results<Ok<AgentRoute>, ProblemHttpResult>> SetWeight(
        string agent, WeightRequest request, Precondition ifMatch, [AsParameters] RouteApiServices services) =>
        RespondAsync(services, cancellationToken =>
            services.Commands.SetWeightAsync(agent, request.Weight, ifMatch, Actor.Of(services.User), cancellationToken));

    /// <summary>
    /// The new route and its ETag; how many gateways applied it travels in headers, since the body is the route (a shared
    /// contract).
    /// </summary>
    private static async Task<Results<Ok<AgentRoute>, ProblemHttpResult>> RespondAsync(
        RouteApiServices services, Func<CancellationToken, Task<Outcome<AgentRoute>>> command)
    {
        var before = services.Gateways.CurrentRevision;
        return await (await command(services.CancellationToken))
            .ThenAsync(async route =>
            {
                GatewayHeaders.Set(services.Response, await services.Gateways.AfterChangeAsync(before, services.CancellationToken));
                return route;
            })
            .ToResultAsync(services.Response, route => route.Revision, route => TypedResults.Ok(route));
    }
}

/// <summary>What the route endpoints need besides their route, body and If-Match, bound as one parameter.</summary>
public sealed record RouteApiServices(
    RouteCommands Commands, GatewayRegistry Gateways, ClaimsPrincipal User, HttpResponse Response, CancellationToken CancellationToken);
