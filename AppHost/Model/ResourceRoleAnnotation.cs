namespace AppHost.Model;

/// <summary>Marks a resource with the part it plays (<see cref="ResourceRole"/>); one per resource, the last one wins.</summary>
public sealed class ResourceRoleAnnotation(ResourceRole role) : IResourceAnnotation
{
    public ResourceRole Role { get; } = role;
}
