namespace AppHost;

/// <summary>The AppHost's kinds of parameters.</summary>
public static class ParameterBuilderExtensions
{
    /// <summary>A secret API key, generated on first run and kept in the AppHost's user secrets.</summary>
    public static IResourceBuilder<ParameterResource> AddApiKeyParameter(this IDistributedApplicationBuilder builder, string name) =>
        builder.AddParameter(name, new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);
}
