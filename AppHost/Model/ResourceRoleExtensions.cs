namespace AppHost.Model;

/// <summary>Attaching and reading <see cref="ResourceRoleAnnotation"/>s.</summary>
public static class ResourceRoleExtensions
{
    /// <summary>Says which part of AgentAspire the resource is; a later call replaces an earlier one.</summary>
    public static IResourceBuilder<T> WithRole<T>(this IResourceBuilder<T> builder, ResourceRole role)
        where T : IResource =>
        builder.WithAnnotation(new ResourceRoleAnnotation(role), ResourceAnnotationMutationBehavior.Replace);

    /// <summary>The resource's role, or null for a resource that plays none of AgentAspire's parts (any other service).</summary>
    public static ResourceRole? GetRole(this IResource resource) =>
        resource.TryGetLastAnnotation<ResourceRoleAnnotation>(out var annotation) ? annotation.Role : null;
}
