using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentWorker.Apis;

/// <summary>
/// Reads a JSON body within a size limit and turns every way it can be wrong (media type, size, syntax, types) into
/// a problem that says what is wrong. The framework's own binding answers such requests with an empty 400.
/// </summary>
internal static class JsonBody
{
    private const int ChunkSize = 16 * 1024;

    public static async Task<(T? Value, ProblemHttpResult? Problem)> ReadAsync<T>(
        HttpRequest request,
        JsonTypeInfo<T> typeInfo,
        long maxBytes,
        CancellationToken cancellationToken)
        where T : class
    {
        if (!request.HasJsonContentType())
        {
            return (null, Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", "Send the body as application/json."));
        }

        if (request.ContentLength > maxBytes)
        {
            return (null, TooLarge(maxBytes));
        }

        // Where the server supports it, let it refuse a chunked body that grows past the limit as well.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = maxBytes;
        }

        byte[]? body;
        try
        {
            body = await ReadLimitedAsync(request.Body, maxBytes, cancellationToken);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            body = null;
        }

        if (body is null)
        {
            return (null, TooLarge(maxBytes));
        }

        if (body.Length == 0)
        {
            return (null, Problem(StatusCodes.Status400BadRequest, "Missing body", "A JSON object is required."));
        }

        try
        {
            return JsonSerializer.Deserialize(body, typeInfo) is { } value
                ? (value, null)
                : (null, Problem(StatusCodes.Status400BadRequest, "Malformed JSON", "A JSON object is required, not null."));
        }
        catch (JsonException ex)
        {
            // The serializer's own message names internal types; the path and position are what a client needs.
            var detail = ex.Path is null or "$"
                ? "The body is not well-formed JSON or not a JSON object."
                : $"The value at {ex.Path} is malformed or of the wrong type.";
            return (null, Problem(StatusCodes.Status400BadRequest, "Malformed JSON", detail, ex));
        }
    }

    /// <summary>The whole body, or null as soon as it exceeds <paramref name="maxBytes"/>.</summary>
    private static async Task<byte[]?> ReadLimitedAsync(Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        var chunk = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            using var buffer = new MemoryStream();
            int read;
            while ((read = await body.ReadAsync(chunk.AsMemory(0, ChunkSize), cancellationToken)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static ProblemHttpResult TooLarge(long maxBytes) =>
        Problem(StatusCodes.Status413PayloadTooLarge, "Request body too large", $"The body must be at most {maxBytes} bytes.");

    private static ProblemHttpResult Problem(int status, string title, string detail, JsonException? error = null) =>
        TypedResults.Problem(
            statusCode: status,
            title: title,
            detail: detail,
            extensions: error is null
                ? null
                : new Dictionary<string, object?>
                {
                    ["path"] = error.Path ?? "$",
                    ["line"] = error.LineNumber,
                    ["bytePositionInLine"] = error.BytePositionInLine,
                });
}
