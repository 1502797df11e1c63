using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace ServiceDefaults.Http;

/// <summary>
/// The one way a request the service cannot read (bad JSON, wrong types, no body, too large, wrong media type, a bad
/// parameter) becomes a problem (RFC 7807), for every service. Messages say what and where (a JSON path, a parameter
/// name), never which CLR type the service binds to: that is an implementation detail, and the framework's and the
/// serializer's own messages name them.
/// </summary>
public static partial class BadRequestProblems
{
    public static ProblemDetails UnsupportedMediaType() =>
        Create(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", "Send the body as application/json.");

    public static ProblemDetails TooLarge(long maxBytes) =>
        Create(StatusCodes.Status413PayloadTooLarge, "Request body too large", $"The body must be at most {maxBytes} bytes.");

    public static ProblemDetails MissingBody() => Create(StatusCodes.Status400BadRequest, "Missing body", "A JSON object is required.");

    /// <summary>The body is not JSON, or a value in it has the wrong shape: where, not the serializer's message.</summary>
    public static ProblemDetails MalformedJson(JsonException? error)
    {
        var detail = error is null ? "A JSON object is required."
            : MissingProperties().Match(error.Message) is { Success: true } missing ? $"Required properties are missing: {missing.Groups[1].Value}."
            : UnknownProperty().Match(error.Message) is { Success: true } unknown ? $"'{unknown.Groups[1].Value}' at {error.Path ?? "$"} is not a known property."
            : error.Path is null or "$" ? "The body is not well-formed JSON or not a JSON object."
            : $"The value at {error.Path} is malformed or of the wrong type.";
        var problem = Create(StatusCodes.Status400BadRequest, "Malformed JSON", detail);
        if (error is not null)
        {
            problem.Extensions["path"] = error.Path ?? "$";
            problem.Extensions["line"] = error.LineNumber;
            problem.Extensions["bytePositionInLine"] = error.BytePositionInLine;
        }

        return problem;
    }

    /// <summary>The problem for an exception that means "the request was malformed", or null for any other exception.</summary>
    public static ProblemDetails? From(Exception exception) => exception switch
    {
        ProblemException problem => Create(problem.Status, problem.Title, problem.Message),
        BadHttpRequestException { InnerException: JsonException json } => MalformedJson(json),
        BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } => UnsupportedMediaType(),
        BadHttpRequestException { StatusCode: >= 400 and < 500 } bad when IsMissingBody(bad) => MissingBody(),
        BadHttpRequestException { StatusCode: >= 400 and < 500 } bad =>
            Create(bad.StatusCode, ReasonPhrases.GetReasonPhrase(bad.StatusCode), WithoutTypeNames(bad.Message)),
        JsonException json => MalformedJson(json),
        _ => null,
    };

    private static ProblemDetails Create(int status, string title, string detail) => new() { Status = status, Title = title, Detail = detail };

    // The framework's wording when a required body is absent ("Required parameter "T request" was not provided from body.",
    // "Implicit body inferred for parameter "request" but no body was provided.").
    private static bool IsMissingBody(BadHttpRequestException bad) =>
        bad.Message.EndsWith("from body.", StringComparison.Ordinal) || bad.Message.Contains("no body was provided", StringComparison.Ordinal);

    /// <summary>The framework quotes a parameter as <c>"Type name"</c>; a client needs only the name.</summary>
    internal static string WithoutTypeNames(string message) => QuotedParameter().Replace(message, "\"$1\"");

    // The serializer's wording for a missing required property and an unmapped one (System.Text.Json, .NET 10); its message
    // names the CLR type as well, so only the property names are taken from it.
    [GeneratedRegex("missing required properties including: ((?:'[^']*'(?:, )?)+)")]
    private static partial Regex MissingProperties();

    [GeneratedRegex("The JSON property '([^']*)' could not be mapped")]
    private static partial Regex UnknownProperty();

    [GeneratedRegex("\"[^\" ]+ (\\w+)\"")]
    private static partial Regex QuotedParameter();
}
