using AgentAspire.Contracts;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using RolloutApi.Auth;

namespace RolloutApi.Http;

/// <summary>Describes the two ways to present an API key, so the Scalar UI offers an "authorize" box.</summary>
internal sealed class ApiKeySecuritySchemeTransformer : IOpenApiDocumentTransformer
{
    private const string BearerScheme = "Bearer";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "AgentAspire RolloutApi";
        document.Info.Description =
            "Control plane for progressive delivery: agents, revisions, rollouts, routing and audit. " +
            $"Reads need a viewer or operator key; mutations an operator key. " +
            // Scalar renders descriptions as Markdown with HTML: a bare <key> is taken for a tag and vanishes.
            $"Send the key as `{AgentHeaders.ApiKey}: YOUR-KEY` or `Authorization: Bearer YOUR-KEY`.";
        document.AddComponent<IOpenApiSecurityScheme>(ApiKeyAuthenticationHandler.SchemeName, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = AgentHeaders.ApiKey,
            Description = "An API key with the viewer or operator role.",
        });
        document.AddComponent<IOpenApiSecurityScheme>(BearerScheme, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "The same API key as a bearer token.",
        });
        document.Security =
        [
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyAuthenticationHandler.SchemeName, document)] = [] },
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] },
        ];
        return Task.CompletedTask;
    }
}
