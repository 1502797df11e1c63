using Microsoft.Net.Http.Headers;

namespace RolloutApi.Rollouts;

/// <summary>
/// A parsed <c>If-Match</c> header. Absent means "no precondition" (allowed); <c>*</c> matches any existing version; otherwise
/// one of the listed strong ETags must equal the current version's (weak tags never match, as RFC 9110 requires for If-Match).
/// </summary>
public readonly record struct Precondition
{
    private readonly IReadOnlyList<EntityTagHeaderValue>? _tags;

    private Precondition(IReadOnlyList<EntityTagHeaderValue>? tags) => _tags = tags;

    /// <summary>No <c>If-Match</c>: the caller accepts whatever the current version is.</summary>
    public static Precondition None => default;

    /// <summary>The ETag of a version counter, e.g. <c>"12"</c>.</summary>
    public static string ETagFor(long version) => $"\"{version}\"";

    /// <summary>Parses an <c>If-Match</c> value; false when it is not a list of entity tags.</summary>
    public static bool TryParse(string? header, out Precondition precondition)
    {
        precondition = None;
        if (header is null)
        {
            return true;
        }

        if (!EntityTagHeaderValue.TryParseStrictList([header], out var tags) || tags.Count == 0)
        {
            return false;
        }

        precondition = new Precondition([.. tags]);
        return true;
    }

    public bool IsSatisfiedBy(long version)
    {
        if (_tags is null)
        {
            return true;
        }

        var current = new EntityTagHeaderValue(ETagFor(version));
        foreach (var tag in _tags)
        {
            if (ReferenceEquals(tag, EntityTagHeaderValue.Any) || tag.Tag.Equals("*", StringComparison.Ordinal) || tag.Compare(current, useStrongComparison: true))
            {
                return true;
            }
        }

        return false;
    }
}
