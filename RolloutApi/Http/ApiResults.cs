using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace RolloutApi.Http;

/// <summary>
/// The one way an endpoint answers: an <see cref="Outcome{T}"/> becomes its result plus its ETag, or a problem (RFC 7807)
/// whose status code follows the <see cref="ErrorKind"/>.
/// </summary>
public static class ApiResults
{
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

    /// <summary>
    /// The problem when <paramref name="outcome"/> failed; otherwise the response's ETag is set to the value's
    /// <paramref name="version"/> and the value answered as <paramref name="result"/> (e.g. <c>TypedResults.Ok</c>).
    /// </summary>
    public static Results<TResult, ProblemHttpResult> ToResult<T, TResult>(
        this Outcome<T> outcome, HttpResponse response, Func<T, long> version, Func<T, TResult> result)
        where TResult : IResult
    {
        if (outcome.Error is { } error)
        {
            return Problem(error);
        }

        var value = outcome.Value!;
        SetETag(response, version(value));
        return result(value);
    }

    /// <summary><see cref="ToResult{T, TResult}"/> for an outcome still to be awaited.</summary>
    public static async Task<Results<TResult, ProblemHttpResult>> ToResultAsync<T, TResult>(
        this Task<Outcome<T>> outcome, HttpResponse response, Func<T, long> version, Func<T, TResult> result)
        where TResult : IResult =>
        (await outcome).ToResult(response, version, result);

    /// <summary>A read that found nothing is a problem; otherwise <paramref name="result"/> with the value's ETag.</summary>
    public static Results<TResult, ProblemHttpResult> ToResult<T, TResult>(
        this T? value, OperationError notFound, HttpResponse response, Func<T, long> version, Func<T, TResult> result)
        where T : class
        where TResult : IResult =>
        (value is null ? (Outcome<T>)notFound : value).ToResult(response, version, result);

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
