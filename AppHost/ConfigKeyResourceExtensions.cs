using AgentAspire.Contracts;

namespace AppHost;

/// <summary>
/// Sets a service's configuration key (a <see cref="ConfigKeys"/> constant, <c>Section:Key</c>) as the environment
/// variable .NET configuration reads it from (<c>Section__Key</c>), so the key is spelled once for writer and reader.
/// </summary>
internal static class ConfigKeyResourceExtensions
{
    public static IResourceBuilder<T> WithConfig<T>(this IResourceBuilder<T> builder, string key, string? value)
        where T : IResourceWithEnvironment =>
        builder.WithEnvironment(ConfigKeys.ToEnvironmentVariable(key), value);

    public static IResourceBuilder<T> WithConfig<T>(this IResourceBuilder<T> builder, string key, IResourceBuilder<ParameterResource> parameter)
        where T : IResourceWithEnvironment =>
        builder.WithEnvironment(ConfigKeys.ToEnvironmentVariable(key), parameter);

    public static IResourceBuilder<T> WithConfig<T>(this IResourceBuilder<T> builder, string key, ReferenceExpression value)
        where T : IResourceWithEnvironment =>
        builder.WithEnvironment(ConfigKeys.ToEnvironmentVariable(key), value);
}
