using System.Security.Claims;
using AgentAspire.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using RolloutApi.Auth;
using RolloutApi.Http;
using RolloutApi.Rollouts;
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

    public static async Task<Results<Ok<AgentRoute>, ProblemHttpResult>> SetForcedCanary(
        string agent,
        ForcedCanaryRequest request,
        [FromHeader(Name = ApiResults.IfMatchHeader)] string? ifMatch,
        ClaimsPrincipal user,
        RoutingService routing,
        GatewayRegistry gateways,
        HttpResponse response,
        CancellationToken cancellationToken)
    {
        if (!Precondition.TryParse(ifMatch, out var precondition))
        {
            return ApiResults.InvalidIfMatch();
        }

        var before = gateways.CurrentRevision;
        var outcome = await routing.SetForcedCanaryAsync(agent, request.Allowed, precondition, Actor.Of(user), cancellationToken);
        if (outcome.Error is { } error)
        {
            return ApiResults.Problem(error);
        }

        GatewayHeaders.Set(response, await gateways.AfterChangeAsync(before, cancellationToken));
        ApiResults.SetETag(response, outcome.Value!.Revision);
        return TypedResults.Ok(outcome.Value);
    }

    public static async Task<Ok<IReadOnlyList<AgentView>>> ListAgents(AgentQueries queries, CancellationToken cancellationToken) =>
        TypedResults.Ok(await queries.ListAsync(cancellationToken));

    public static async Task<Results<Ok<AgentView>, ProblemHttpResult>> GetAgent(
        string agent, AgentQueries queries, HttpResponse response, CancellationToken cancellationToken)
    {
        var view = await queries.GetAsync(agent, cancellationToken);
        if (view is null)
        {
            return ApiResults.Problem(OperationError.AgentNotFound(agent));
        }

        ApiResults.SetETag(response, view.Route.Revision);
        return TypedResults.Ok(view);
    }

    public static async Task<Results<Ok<AgentRoute>, ProblemHttpResult>> SetWeight(
        string agent,
        WeightRequest request,
        [FromHeader(Name = ApiResults.IfMatchHeader)] string? ifMatch,
        ClaimsPrincipal user,
        RoutingService routing,
        GatewayRegistry gateways,
        HttpResponse response,
        CancellationToken cancellationToken)
    {
        if (!Precondition.TryParse(ifMatch, out var precondition))
        {
            return ApiResults.InvalidIfMatch();
        }

        var before = gateways.CurrentRevision;
        var outcome = await routing.SetWeightAsync(agent, request.Weight, precondition, Actor.Of(user), cancellationToken);
        if (outcome.Error is { } error)
        {
            return ApiResults.Problem(error);
        }

        // The body is the route (a shared contract); how many gateways applied it travels in headers.
        GatewayHeaders.Set(response, await gateways.AfterChangeAsync(before, cancellationToken));
        ApiResults.SetETag(response, outcome.Value!.Revision);
        return TypedResults.Ok(outcome.Value);
    }
}
