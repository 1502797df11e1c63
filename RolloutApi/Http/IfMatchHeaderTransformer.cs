using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace RolloutApi.Http;

/// <summary>
/// Lists the optional <c>If-Match</c> header on every operation that takes a <see cref="Precondition"/>: a parameter bound by
/// <c>BindAsync</c> is invisible to the OpenAPI generator, and clients need to know the header exists.
/// </summary>
internal sealed class IfMatchHeaderTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<IfMatchHeader>().Any())
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = Precondition.HeaderName,
                In = ParameterLocation.Header,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }

        return Task.CompletedTask;
    }
}
