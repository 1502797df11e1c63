using System.Security.Claims;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using RolloutApi.Auth;
using RolloutApi.Http;
using RolloutApi.Rollouts;
using RolloutApi.Rollouts.Analysis;

namespace RolloutApi.Apis;

/// <summary><c>GET …/analysis-runs</c>: a rollout's analysis runs, oldest first, each with every measurement.</summary>
public sealed record AnalysisRunList(
    [property: JsonPropertyName("agent")] string Agent,
    [property: JsonPropertyName("rolloutId")] long RolloutId,
    [property: JsonPropertyName("runs")] IReadOnlyList<AnalysisRunDetail> Runs);

/// <summary>Analysis templates (per agent, versioned) and analysis runs (per rollout). See <c>Rollouts/Analysis/README.md</c>.</summary>
public static class AnalysisApi
{
    public static IEndpointRouteBuilder MapAnalysisApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/agents/{agent}").WithTags("Analysis").RequireAuthorization(AuthPolicies.Viewer);

        api.MapGet("/analysis-templates", ListAnalysisTemplates)
            .WithName(nameof(ListAnalysisTemplates))
            .WithSummary("The newest version of every analysis template of the agent, the built-in ones (version 0) included.")
            .ProducesProblems(StatusCodes.Status404NotFound);

        api.MapGet("/analysis-templates/{name}", GetAnalysisTemplate)
            .WithName(nameof(GetAnalysisTemplate))
            .WithSummary("One template: the newest version, or ?version=N. The ETag is its version.")
            .ProducesProblems(StatusCodes.Status404NotFound);

        api.MapPut("/analysis-templates/{name}", SaveAnalysisTemplate)
            .WithName(nameof(SaveAnalysisTemplate))
            .WithSummary("Saves the next version of a template (If-Match: the current version, 0 for a new name or a built-in).")
            .WithDescription("Runs keep the version they started with. Metrics: source (gateway, prometheus), query, judge (threshold, sequential, mann-whitney) and the judge's knobs.")
            .RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status412PreconditionFailed);

        api.MapGet("/rollouts/{id:long}/analysis-runs", ListAnalysisRuns)
            .WithName(nameof(ListAnalysisRuns))
            .WithSummary("The rollout's analysis runs (step and background), oldest first, each with every measurement and verdict.")
            .ProducesProblems(StatusCodes.Status404NotFound);

        api.MapGet("/rollouts/{id:long}/analysis-runs/{runId:long}", GetAnalysisRun)
            .WithName(nameof(GetAnalysisRun))
            .WithSummary("One analysis run with every measurement.")
            .ProducesProblems(StatusCodes.Status404NotFound);

        api.MapGet("/rollout/analysis-runs", ListCurrentAnalysisRuns)
            .WithName(nameof(ListCurrentAnalysisRuns))
            .WithSummary("The analysis runs of the agent's newest rollout.")
            .ProducesProblems(StatusCodes.Status404NotFound);

        app.MapAlertmanagerApi();
        return app;
    }

    public static async Task<Results<Ok<IReadOnlyList<AnalysisTemplateView>>, ProblemHttpResult>> ListAnalysisTemplates(
        string agent, AgentQueries agents, AnalysisTemplates templates, CancellationToken cancellationToken) =>
        await agents.GetAsync(agent, cancellationToken) is null
            ? ApiResults.Problem(OperationError.AgentNotFound(agent))
            : TypedResults.Ok(await templates.ListAsync(agent, cancellationToken));

    public static async Task<Results<Ok<AnalysisTemplateView>, ProblemHttpResult>> GetAnalysisTemplate(
        string agent, string name, int? version, AgentQueries agents, AnalysisTemplates templates, HttpResponse response, CancellationToken cancellationToken)
    {
        if (await agents.GetAsync(agent, cancellationToken) is null)
        {
            return ApiResults.Problem(OperationError.AgentNotFound(agent));
        }

        if (await templates.GetAsync(agent, name, version, cancellationToken) is not { } template)
        {
            return ApiResults.Problem(new OperationError(ErrorKind.NotFound, "Template not found",
                version is null ? $"Agent '{agent}' has no analysis template named '{name}'." : $"Template '{name}' has no version {version}."));
        }

        ApiResults.SetETag(response, template.Version);
        return TypedResults.Ok(template);
    }

    public static Task<Results<Ok<AnalysisTemplateView>, ProblemHttpResult>> SaveAnalysisTemplate(
        string agent, string name, AnalysisTemplate template, Precondition ifMatch, ClaimsPrincipal user, AnalysisTemplates templates,
        HttpResponse response, CancellationToken cancellationToken) =>
        templates.SaveAsync(agent, name, template, ifMatch, Actor.Of(user), cancellationToken)
            .ToResultAsync(response, view => view.Version, view => TypedResults.Ok(view));

    public static Task<Results<Ok<AnalysisRunList>, ProblemHttpResult>> ListAnalysisRuns(
        string agent, long id, AnalysisRunQueries runs, CancellationToken cancellationToken) => ListAsync(agent, id, runs, cancellationToken);

    public static Task<Results<Ok<AnalysisRunList>, ProblemHttpResult>> ListCurrentAnalysisRuns(
        string agent, AnalysisRunQueries runs, CancellationToken cancellationToken) => ListAsync(agent, null, runs, cancellationToken);

    public static async Task<Results<Ok<AnalysisRunDetail>, ProblemHttpResult>> GetAnalysisRun(
        string agent, long id, long runId, AnalysisRunQueries runs, CancellationToken cancellationToken) =>
        await runs.GetAsync(agent, id, runId, cancellationToken) is { } run
            ? TypedResults.Ok(run)
            : ApiResults.Problem(new OperationError(ErrorKind.NotFound, "Analysis run not found", $"Rollout {id} of '{agent}' has no analysis run {runId}."));

    private static async Task<Results<Ok<AnalysisRunList>, ProblemHttpResult>> ListAsync(
        string agent, long? id, AnalysisRunQueries runs, CancellationToken cancellationToken) =>
        await runs.ListAsync(agent, id, cancellationToken) is { } found
            ? TypedResults.Ok(new AnalysisRunList(agent, found.RolloutId, found.Runs))
            : ApiResults.Problem(new OperationError(ErrorKind.NotFound, "Rollout not found",
                id is null ? $"Agent '{agent}' has no rollout (or no such agent)." : $"Agent '{agent}' has no rollout {id}."));
}
