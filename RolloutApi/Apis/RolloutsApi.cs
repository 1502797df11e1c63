using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using RolloutApi.Auth;
using RolloutApi.Http;
using RolloutApi.Model;
using RolloutApi.Rollouts;
using RolloutApi.Rollouts.Commands;
using RolloutApi.Routing;

namespace RolloutApi.Apis;

/// <summary>
/// The body of <c>POST /api/agents/{agent}/rollouts</c>; without steps the default staged rollout is used. <c>analysis</c>
/// names a template to run in the background from the first step to promotion (e.g. <c>{"template": "default"}</c>).
/// </summary>
public sealed record StartRolloutRequest(
    int Revision, IReadOnlyList<RolloutStep>? Steps = null, string? Reason = null, BackgroundAnalysisRequest? Analysis = null);

/// <summary>The analysis template a rollout runs in the background.</summary>
public sealed record BackgroundAnalysisRequest(string Template);

/// <summary>The optional body of a rollout operation: why (recorded in the audit log).</summary>
public sealed record OperationRequest(string? Reason = null);

/// <summary>The optional body of <c>POST /api/agents/{agent}/undo</c>: the revision to re-apply (the previous stable one by default).</summary>
public sealed record UndoRequest(int? Revision = null, string? Reason = null);

/// <summary>Rollouts: start, status, history and the operations (pause, resume, promote, promote-full, abort, retry, undo).</summary>
public static class RolloutsApi
{
    private const int DefaultHistory = 20;

    public static IEndpointRouteBuilder MapRolloutsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/agents/{agent}").WithTags("Rollouts").RequireAuthorization(AuthPolicies.Viewer);

        api.MapGet("/rollouts", ListRollouts)
            .WithName(nameof(ListRollouts))
            .WithSummary("The agent's rollouts, newest first (limit: 1-500, default 20).")
            .ProducesProblems(StatusCodes.Status404NotFound);

        api.MapGet("/rollouts/{id:long}", GetRollout)
            .WithName(nameof(GetRollout))
            .WithSummary("One rollout's status. The ETag is its version.")
            .ProducesProblems(StatusCodes.Status404NotFound);

        api.MapPost("/rollouts", StartRollout)
            .WithName(nameof(StartRollout))
            .WithSummary("Starts a rollout from the stable revision to another revision, through steps (default: 1% → 10% → 25% → 50% → 100%).")
            .WithDescription("If-Match (optional) is the agent's route ETag. One rollout per agent at a time (409). " +
                "Default steps: setWeight 100, pause 300s, analysis; setWeight 1000, pause 300s, analysis; setWeight 2500, pause 600s, analysis; " +
                "setWeight 5000, pause 600s, analysis; setWeight 10000, pause 300s; then promotion.")
            .RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict,
                StatusCodes.Status412PreconditionFailed);

        api.MapGet("/rollout", GetCurrentRollout)
            .WithName(nameof(GetCurrentRollout))
            .WithSummary("The newest rollout at a glance: state, step, weight, time in step, next action, last transitions. ETag = its version.")
            .ProducesProblems(StatusCodes.Status404NotFound);

        MapOperation(api, "pause", nameof(PauseRollout), PauseRollout, "Holds the rollout where it is (pause timers keep running).");
        MapOperation(api, "resume", nameof(ResumeRollout), ResumeRollout, "Releases a hold (an operator's pause, or an inconclusive analysis, which runs again).");
        MapOperation(api, "promote", nameof(PromoteRollout), PromoteRollout, "Skips the current step (ends a pause, skips an analysis).");
        MapOperation(api, "promote-full", nameof(PromoteRolloutFull), PromoteRolloutFull, "Skips every remaining step: the canary revision becomes stable.");
        MapOperation(api, "abort", nameof(AbortRollout), AbortRollout, "Canary weight 0 at once; returns once every known gateway applied it or RolloutApi:GatewayAckTimeout passed, with how many did (gateways.applied of gateways.known).");
        MapOperation(api, "retry", nameof(RetryRollout), RetryRollout, "Starts an aborted rollout over from its first step.");

        api.MapPost("/undo", Undo)
            .WithName(nameof(Undo))
            .WithSummary("Re-applies an earlier revision on the stable track (the previous stable revision when the body names none).")
            .WithDescription("If-Match (optional) is the agent's route ETag. Refused (409) while a rollout is active. Returns the RolledBack rollout.")
            .RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict,
                StatusCodes.Status412PreconditionFailed);

        return app;
    }

    public static async Task<Results<Ok<IReadOnlyList<RolloutSummary>>, ProblemHttpResult>> ListRollouts(
        string agent, int? limit, AgentQueries agents, RolloutQueries rollouts, CancellationToken cancellationToken)
    {
        if (await agents.GetAsync(agent, cancellationToken) is null)
        {
            return ApiResults.Problem(OperationError.AgentNotFound(agent));
        }

        return TypedResults.Ok(await rollouts.ListAsync(agent, limit ?? DefaultHistory, cancellationToken));
    }

    public static Task<Results<Ok<RolloutStatus>, ProblemHttpResult>> GetRollout(string agent, long id, [AsParameters] RolloutsApiServices services) =>
        StatusAsync(agent, id, services);

    public static Task<Results<Ok<RolloutStatus>, ProblemHttpResult>> GetCurrentRollout(string agent, [AsParameters] RolloutsApiServices services) =>
        StatusAsync(agent, id: null, services);

    public static Task<Results<Created<RolloutStatus>, ProblemHttpResult>> StartRollout(
        string agent, StartRolloutRequest request, Precondition ifMatch, [AsParameters] RolloutsApiServices services) =>
        RespondAsync(services, cancellationToken => services.Commands.StartAsync(
            agent, request.Revision, request.Steps, request.Reason, ifMatch, Actor.Of(services.User), cancellationToken, request.Analysis?.Template),
            status => TypedResults.Created($"/api/agents/{Uri.EscapeDataString(agent)}/rollouts/{status.Id}", status));

    public static Task<Results<Ok<RolloutStatus>, ProblemHttpResult>> PauseRollout(
        string agent, OperationRequest? request, Precondition ifMatch, [AsParameters] RolloutsApiServices services) =>
        RespondAsync(services, cancellationToken => services.Commands.PauseAsync(agent, request?.Reason, ifMatch, Actor.Of(services.User), cancellationToken));

    public static Task<Results<Ok<RolloutStatus>, ProblemHttpResult>> ResumeRollout(
        string agent, OperationRequest? request, Precondition ifMatch, [AsParameters] RolloutsApiServices services) =>
        RespondAsync(services, cancellationToken => services.Commands.ResumeAsync(agent, request?.Reason, ifMatch, Actor.Of(services.User), cancellationToken));

    public static Task<Results<Ok<RolloutStatus>, ProblemHttpResult>> PromoteRollout(
        string agent, OperationRequest? request, Precondition ifMatch, [AsParameters] RolloutsApiServices services) =>
        RespondAsync(services, cancellationToken => services.Commands.PromoteAsync(agent, request?.Reason, ifMatch, Actor.Of(services.User), cancellationToken));

    public static Task<Results<Ok<RolloutStatus>, ProblemHttpResult>> PromoteRolloutFull(
        string agent, OperationRequest? request, Precondition ifMatch, [AsParameters] RolloutsApiServices services) =>
        RespondAsync(services, cancellationToken => services.Commands.PromoteFullAsync(agent, request?.Reason, ifMatch, Actor.Of(services.User), cancellationToken));

    public static Task<Results<Ok<RolloutStatus>, ProblemHttpResult>> AbortRollout(
        string agent, OperationRequest? request, Precondition ifMatch, [AsParameters] RolloutsApiServices services) =>
        RespondAsync(services, cancellationToken => services.Commands.AbortAsync(agent, request?.Reason, ifMatch, Actor.Of(services.User), cancellationToken));

    public static Task<Results<Ok<RolloutStatus>, ProblemHttpResult>> RetryRollout(
        string agent, OperationRequest? request, Precondition ifMatch, [AsParameters] RolloutsApiServices services) =>
        RespondAsync(services, cancellationToken => services.Commands.RetryAsync(agent, request?.Reason, ifMatch, Actor.Of(services.User), cancellationToken));

    public static Task<Results<Ok<RolloutStatus>, ProblemHttpResult>> Undo(
        string agent, UndoRequest? request, Precondition ifMatch, [AsParameters] RolloutsApiServices services) =>
        RespondAsync(services, cancellationToken => services.Undo.UndoAsync(
            agent, request?.Revision, request?.Reason, ifMatch, Actor.Of(services.User), cancellationToken));

    private static RouteHandlerBuilder MapOperation(RouteGroupBuilder api, string operation, string name, Delegate handler, string summary) =>
        api.MapPost($"/rollout/{operation}", handler)
            .WithName(name)
            .WithSummary(summary)
            .WithDescription("Acts on the newest rollout. If-Match (optional) is the rollout's ETag (its version); returns the new status and ETag.")
            .RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict,
                StatusCodes.Status412PreconditionFailed);

    private static Task<Results<Ok<RolloutStatus>, ProblemHttpResult>> RespondAsync(
        RolloutsApiServices services, Func<CancellationToken, Task<Outcome<RolloutRecord>>> operation) =>
        RespondAsync(services, operation, status => TypedResults.Ok(status));

    /// <summary>
    /// Runs the command, then answers with the rollout's new status once the gateways applied the routing it published (or
    /// the bounded wait ran out): an abort is done when the gateways say so, and the answer says how many did.
    /// </summary>
    private static async Task<Results<TResult, ProblemHttpResult>> RespondAsync<TResult>(
        RolloutsApiServices services, Func<CancellationToken, Task<Outcome<RolloutRecord>>> operation, Func<RolloutStatus, TResult> result)
        where TResult : IResult
    {
        var cancellationToken = services.CancellationToken;
        var before = services.Gateways.CurrentRevision;
        var outcome = await operation(cancellationToken);
        return await outcome
            .ThenAsync(async record =>
            {
                var acknowledgement = await services.Gateways.AfterChangeAsync(before, cancellationToken);
                GatewayHeaders.Set(services.Response, acknowledgement);
                return await services.Rollouts.StatusAsync(record, cancellationToken) with { Gateways = acknowledgement };
            })
            .ToResultAsync(services.Response, status => status.Version, result);
    }

    private static async Task<Results<Ok<RolloutStatus>, ProblemHttpResult>> StatusAsync(string agent, long? id, RolloutsApiServices services)
    {
        var status = await services.Rollouts.StatusAsync(agent, id, services.CancellationToken);
        var notFound = new OperationError(ErrorKind.NotFound, "No rollout",
            id is null ? $"Agent '{agent}' has no rollout yet." : $"Agent '{agent}' has no rollout {id}.");
        return status.ToResult(notFound, services.Response, s => s.Version, s => TypedResults.Ok(s with { Gateways = services.Gateways.Current() }));
    }
}

/// <summary>What the rollout endpoints need besides their route, body and If-Match, bound as one parameter.</summary>
public sealed record RolloutsApiServices(
    RolloutCommands Commands,
    UndoCommand Undo,
    RolloutQueries Rollouts,
    GatewayRegistry Gateways,
    ClaimsPrincipal User,
    HttpResponse Response,
    CancellationToken CancellationToken);
