using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using RolloutApi.Auth;
using RolloutApi.Http;
using RolloutApi.Rollouts;

namespace RolloutApi.Apis;

/// <summary>
/// The body of <c>POST /api/agents/{agent}/revisions</c>. The image tag defaults to the version; never <c>latest</c>. A
/// <c>build</c> (a local stored build's id) makes the revision run that build on the local tracks.
/// </summary>
public sealed record CreateRevisionRequest(string Version, string? ImageTag = null, string? Reason = null, string? Build = null);

/// <summary>An agent's immutable revisions: list, read, create (no update, no delete; old ones are pruned past the history limit).</summary>
public static class RevisionsApi
{
    public static IEndpointRouteBuilder MapRevisionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/agents/{agent}/revisions").WithTags("Revisions").RequireAuthorization(AuthPolicies.Viewer);

        api.MapGet("", ListRevisions)
            .WithName(nameof(ListRevisions))
            .WithSummary("The agent's revisions, newest first. The ETag is the last revision number (If-Match for creating one).")
            .ProducesProblems(StatusCodes.Status404NotFound);

        api.MapGet("/{number:int}", GetRevision)
            .WithName(nameof(GetRevision))
            .WithSummary("One revision.")
            .ProducesProblems(StatusCodes.Status404NotFound);

        api.MapPost("", CreateRevision)
            .WithName(nameof(CreateRevision))
            .WithSummary("Creates the next revision (version label + immutable image tag, and optionally a local build).")
            .WithDescription("The image tag defaults to the version label; empty and 'latest' are refused. A build (64 hex characters, a local stored build's id) must be in the AppHost's build store. A copy of an existing revision is a 409.")
            .RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict,
                StatusCodes.Status412PreconditionFailed);

        return app;
    }

    public static async Task<Results<Ok<IReadOnlyList<RevisionView>>, ProblemHttpResult>> ListRevisions(
        string agent, RevisionService revisions, HttpResponse response, CancellationToken cancellationToken)
    {
        if (await revisions.ListAsync(agent, cancellationToken) is not { } list)
        {
            return ApiResults.Problem(OperationError.AgentNotFound(agent));
        }

        ApiResults.SetETag(response, list.LastRevision);
        return TypedResults.Ok<IReadOnlyList<RevisionView>>([.. list.Revisions.Select(RevisionView.From)]);
    }

    public static async Task<Results<Ok<RevisionView>, ProblemHttpResult>> GetRevision(
        string agent, int number, RevisionService revisions, CancellationToken cancellationToken)
    {
        var outcome = await revisions.GetAsync(agent, number, cancellationToken);
        return outcome.Error is { } error ? ApiResults.Problem(error) : TypedResults.Ok(RevisionView.From(outcome.Value!));
    }

    public static Task<Results<Created<RevisionView>, ProblemHttpResult>> CreateRevision(
        string agent, CreateRevisionRequest request, Precondition ifMatch, ClaimsPrincipal user, RevisionService revisions, HttpResponse response,
        CancellationToken cancellationToken) =>
        revisions.CreateAsync(agent, request.Version, request.ImageTag, request.Reason, ifMatch, Actor.Of(user), cancellationToken, request.Build)
            .ToResultAsync(response, revision => revision.Number, revision =>
                TypedResults.Created($"/api/agents/{Uri.EscapeDataString(agent)}/revisions/{revision.Number}", RevisionView.From(revision)));
}
