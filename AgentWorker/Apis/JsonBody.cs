using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using ServiceDefaults.Http;

namespace AgentWorker.Apis;

/// <summary>
/// Reads a JSON body within a size limit and turns every way it can be wrong (media type, size, syntax, types) into the
/// shared problems (<see cref="BadRequestProblems"/>), the same ones RolloutApi answers with. The body is read by hand,
/// with the source-generated serializer context, because the limit comes from the agent's options per request.
/// </summary>
internal static class JsonBody
{
    public static async Task<(T? Value, ProblemHttpResult? Problem)> ReadAsync<T>(
        HttpRequest request,
        JsonTypeInfo<T> typeInfo,
        long maxBytes,
        CancellationToken cancellationToken)
        where T : class
    {
        if (!request.HasJsonContentType())
        {
            return (null, TypedResults.Problem(BadRequestProblems.UnsupportedMediaType()));
        }

        // Where the server supports it, let it refuse a chunked body that grows past the limit as well.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = maxBytes;
        }

        byte[] body;
        try
        {
            RequestBodyLimit.Apply(request, maxBytes);
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, cancellationToken);
            body = buffer.ToArray();
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TypedResults.Problem(BadRequestProblems.TooLarge(maxBytes)));
        }

        if (body.Length == 0)
        {
            return (null, TypedResults.Problem(BadRequestProblems.MissingBody()));
        }

        try
        {
            return JsonSerializer.Deserialize(body, typeInfo) is { } value
                ? (value, null)
                : (null, TypedResults.Problem(BadRequestProblems.MalformedJson(null)));
        }
        catch (JsonException ex)
        {
            return (null, TypedResults.Problem(BadRequestProblems.MalformedJson(ex)));
        }
    }
}
