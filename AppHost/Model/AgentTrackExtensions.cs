using System.Diagnostics.CodeAnalysis;
using AgentAspire.Contracts;

namespace AppHost.Model;

/// <summary>Attaching and finding <see cref="AgentTrackAnnotation"/>s.</summary>
public static class AgentTrackExtensions
{
    /// <summary>
    /// Makes the resource a track of <paramref name="agent"/>: the annotation, the <see cref="ResourceRole.AgentTrack"/>
    /// role, and the <see cref="ConfigKeys.Agent"/> settings the agent reads its identity from.
    /// </summary>
    /// <param name="projectPath">
    /// The project the track's builds come from; for a <see cref="ProjectResource"/> its own project when omitted.
    /// </param>
    public static IResourceBuilder<T> WithAgentTrack<T>(
        this IResourceBuilder<T> builder, string agent, string track, IResourceBuilder<ParameterResource> version, string? projectPath = null)
        where T : IResourceWithEnvironment =>
        builder
            .WithAgentTrack(new AgentTrackAnnotation(agent, track, ReferenceExpression.Create($"{version.Resource}"), ProjectPathOf(builder.Resource, projectPath)))
            .WithConfig(ConfigKeys.Agent.Version, version);

    /// <inheritdoc cref="WithAgentTrack{T}(IResourceBuilder{T}, string, string, IResourceBuilder{ParameterResource}, string?)"/>
    public static IResourceBuilder<T> WithAgentTrack<T>(
        this IResourceBuilder<T> builder, string agent, string track, string version, string? projectPath = null)
        where T : IResourceWithEnvironment =>
        builder
            .WithAgentTrack(new AgentTrackAnnotation(agent, track, ReferenceExpression.Create($"{version}"), ProjectPathOf(builder.Resource, projectPath)))
            .WithConfig(ConfigKeys.Agent.Version, version);

    /// <summary>The track this resource runs, when it runs one.</summary>
    public static bool TryGetAgentTrack(this IResource resource, [NotNullWhen(true)] out AgentTrackAnnotation? track) =>
        resource.TryGetLastAnnotation(out track);

    /// <summary>The track this resource runs; throws when it runs none (a wiring mistake in the AppHost).</summary>
    public static AgentTrackAnnotation GetAgentTrack(this IResource resource) =>
        resource.TryGetAgentTrack(out var track)
            ? track
            : throw new InvalidOperationException($"Resource '{resource.Name}' is not an agent track: call WithAgentTrack(...) on it first.");

    /// <summary>Every agent track in the model, in declaration order.</summary>
    public static IEnumerable<(IResource Resource, AgentTrackAnnotation Track)> GetAgentTracks(this DistributedApplicationModel model) =>
        model.Resources.Select(r => (Resource: r, Track: r.TryGetAgentTrack(out var track) ? track : null))
            .Where(t => t.Track is not null)
            .Select(t => (t.Resource, t.Track!));

    private static IResourceBuilder<T> WithAgentTrack<T>(this IResourceBuilder<T> builder, AgentTrackAnnotation track)
        where T : IResourceWithEnvironment =>
        builder
            .WithAnnotation(track, ResourceAnnotationMutationBehavior.Replace)
            .WithRole(ResourceRole.AgentTrack)
            .WithConfig(ConfigKeys.Agent.Name, track.Agent)
            .WithConfig(ConfigKeys.Agent.Track, track.Track);

    private static string ProjectPathOf(IResource resource, string? projectPath) =>
        projectPath
        ?? (resource as ProjectResource)?.GetProjectMetadata().ProjectPath
        ?? throw new ArgumentException(
            $"Resource '{resource.Name}' is not a project: name the project its builds come from (projectPath), so it can be published.",
            nameof(projectPath));
}
