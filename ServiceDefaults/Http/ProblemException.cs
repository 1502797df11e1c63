using Microsoft.AspNetCore.Http;

namespace ServiceDefaults.Http;

/// <summary>
/// Thrown where a request is refused before a handler can return a result (a parameter binder, a middleware); the
/// problem exception handler (<see cref="HttpProblemsExtensions.AddHttpProblems"/>) answers it as this problem.
/// </summary>
public sealed class ProblemException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;

    public string Title { get; } = title;
}
