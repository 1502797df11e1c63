using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using RolloutApi.Rollouts;

namespace RolloutApi.Http;

/// <summary>Maps refused operations and bad headers to RFC 7807 problem details; one mapping for every endpoint.</summary>
public static class ApiResults
{
    public const string IfMatchHeader = "If-Match";

    public static int StatusCodeOf(ErrorKind kind) => kind switch
    {
        ErrorKind.Invalid => StatusCodes.Status400BadRequest,
        ErrorKind.NotFound => StatusCodes.Status404NotFound,
        ErrorKind.Conflict => StatusCodes.Status409Conflict,
        ErrorKind.PreconditionFailed => StatusCodes.Status412PreconditionFailed,
        _ => StatusCodes.Status500InternalServerError,
    };

    public static ProblemHttpResult Problem(OperationError error)
    {
        var problem = new ProblemDetails { Status = StatusCodeOf(error.Kind), Title = error.Title, Detail = error.Detail };
        if (error.Errors is not null)
        {
            problem.Extensions["errors"] = error.Errors;
        }

        return TypedResults.Problem(problem);
    }

    public static ProblemHttpResult InvalidIfMatch() => Problem(new OperationError(
        ErrorKind.Invalid, "Invalid If-Match", "If-Match must be '*' or a list of entity tags such as \"12\"."));

    /// <summary>Sets the response's ETag to a version counter.</summary>
    public static void SetETag(HttpResponse response, long version) => response.Headers.ETag = Precondition.ETagFor(version);

    /// <summary>Declares the problem responses an endpoint can return, so the OpenAPI document lists them.</summary>
    public static RouteHandlerBuilder ProducesProblems(this RouteHandlerBuilder builder, params int[] statusCodes)
    {
        foreach (var status in statusCodes)
        {
            builder.ProducesProblem(status);
        }

        return builder;
    }
}
