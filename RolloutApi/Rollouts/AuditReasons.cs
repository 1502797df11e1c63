using RolloutApi.Http;

namespace RolloutApi.Rollouts;

/// <summary>The operator's "why" that every audited change carries: one limit and one message for every endpoint.</summary>
public static class AuditReasons
{
    /// <summary>The longest reason an operator may give; the audit log stays readable.</summary>
    public const int MaxLength = 500;

    /// <summary>A 400 when <paramref name="reason"/> is too long, else null.</summary>
    public static OperationError? Check(string? reason) =>
        reason is { Length: > MaxLength }
            ? OperationError.Invalid("reason", $"A reason is at most {MaxLength} characters.")
            : null;

    /// <summary>A reason the system writes (e.g. an analysis summary), cut to stay readable; the full text is stored elsewhere.</summary>
    public static string Truncate(string reason) => reason.Length <= 2 * MaxLength ? reason : reason[..(2 * MaxLength)] + "…";
}
