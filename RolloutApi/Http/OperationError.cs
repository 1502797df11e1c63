namespace RolloutApi.Http;

/// <summary>Why an operation was refused; the HTTP layer maps each kind to a status code.</summary>
public enum ErrorKind
{
    /// <summary>The request itself is wrong (400).</summary>
    Invalid,

    /// <summary>The agent, revision or rollout does not exist (404).</summary>
    NotFound,

    /// <summary>The request is valid but the current state does not allow it (409).</summary>
    Conflict,

    /// <summary>The caller's <c>If-Match</c> names an older version (412).</summary>
    PreconditionFailed,
}

/// <summary>A refused operation: nothing changed.</summary>
public sealed record OperationError(ErrorKind Kind, string Title, string Detail, IDictionary<string, string[]>? Errors = null)
{
    public static OperationError AgentNotFound(string agent) =>
        new(ErrorKind.NotFound, "Agent not found", $"No agent named '{agent}' is configured.");

    public static OperationError Stale(string what, long current) =>
        new(ErrorKind.PreconditionFailed, "Precondition failed", $"If-Match does not match the current {what} (ETag \"{current}\"); read it again and retry.");

    public static OperationError Invalid(string field, string message) =>
        new(ErrorKind.Invalid, "Invalid request", message, new Dictionary<string, string[]> { [field] = [message] });

    public static OperationError Conflict(string detail) => new(ErrorKind.Conflict, "Conflict", detail);
}
