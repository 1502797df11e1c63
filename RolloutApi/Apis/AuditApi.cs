using Microsoft.AspNetCore.Http.HttpResults;
using RolloutApi.Auth;
using RolloutApi.Http;
using RolloutApi.Rollouts;

namespace RolloutApi.Apis;

/// <summary>The audit log: every transition with time, actor, reason and from → to.</summary>
public static class AuditApi
{
    private const int DefaultPage = 50;

    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/agents/{agent}").WithTags("Audit").RequireAuthorization(AuthPolicies.Viewer)
            .MapGet("/audit", GetAudit)
            .WithName(nameof(GetAudit))
            .WithSummary("Audit entries, newest first. Page with before=<id>; filter with rolloutId; limit 1-500 (default 50).")
            .ProducesProblems(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Results<Ok<IReadOnlyList<AuditEntryView>>, ProblemHttpResult>> GetAudit(
        string agent, long? rolloutId, long? before, int? limit, AgentQueries agents, RolloutQueries rollouts, CancellationToken cancellationToken)
    {
        if (await agents.GetAsync(agent, cancellationToken) is null)
        {
            return ApiResults.Problem(OperationError.AgentNotFound(agent));
        }

        return TypedResults.Ok(await rollouts.AuditAsync(agent, rolloutId, before, limit ?? DefaultPage, cancellationToken));
    }
}
