using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace RolloutApi.Http;

/// <summary>
/// Turns the framework's "the request was malformed" exceptions (bad JSON, wrong types, unknown fields, missing body,
/// oversized body) into problem details with their own status code, instead of the 500 an unhandled exception would get.
/// </summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, detail) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, bad.InnerException is JsonException json ? $"{bad.Message} {json.Message}" : bad.Message),
            JsonException json => (StatusCodes.Status400BadRequest, json.Message),
            _ => (0, ""),
        };
        if (status is < 400 or >= 500)
        {
            return false;
        }

        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new ProblemDetails { Status = status, Title = ReasonPhrases.GetReasonPhrase(status), Detail = detail },
            Exception = exception,
        });
    }
}
