using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace ServiceDefaults.Http;

/// <summary>
/// Answers the exceptions that mean "the request was malformed" (<see cref="BadRequestProblems.From"/>) and
/// <see cref="ProblemException"/> with their problem and status code, instead of the 500 an unhandled exception would get.
/// </summary>
internal sealed class ProblemExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (BadRequestProblems.From(exception) is not { Status: >= 400 and < 500 } problem)
        {
            return false;
        }

        httpContext.Response.StatusCode = problem.Status.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }
}
