using System.Reflection;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Net.Http.Headers;
using ServiceDefaults.Http;

namespace RolloutApi.Http;

/// <summary>
/// A parsed <c>If-Match</c> header. Absent means "no precondition" (allowed); <c>*</c> matches any existing version; otherwise
/// one of the listed strong ETags must equal the current version's (weak tags never match, as RFC 9110 requires for If-Match).
/// </summary>
/// <remarks>
/// A handler takes it as a parameter (<c>Precondition ifMatch</c>): it is bound from the header here, once for every endpoint,
/// and a malformed header is answered 400 before the handler runs. The endpoint is marked with <see cref="IfMatchHeader"/>, so
/// that the OpenAPI document still lists the header (<see cref="IfMatchHeaderTransformer"/>).
/// </remarks>
public readonly record struct Precondition : IEndpointParameterMetadataProvider
{
    public const string HeaderName = "If-Match";

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

    /// <summary>Binds the request's <c>If-Match</c> header; throws a 400 problem when it is not a list of entity tags.</summary>
    public static ValueTask<Precondition> BindAsync(HttpContext context, ParameterInfo parameter) =>
        TryParse(context.Request.Headers[HeaderName], out var precondition)
            ? ValueTask.FromResult(precondition)
            : throw new ProblemException(
                StatusCodes.Status400BadRequest, "Invalid If-Match", "If-Match must be '*' or a list of entity tags such as \"12\".");

    public static void PopulateMetadata(ParameterInfo parameter, EndpointBuilder builder) => builder.Metadata.Add(IfMatchHeader.Instance);

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
