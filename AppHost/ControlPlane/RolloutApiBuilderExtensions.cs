using System.Text.Json;
using System.Text.Json.Nodes;
using AgentAspire.Contracts;
using AppHost.Model;

namespace AppHost.ControlPlane;

/// <summary>RolloutApi's wiring: its API keys, the agents it manages (read from their track resources), their shipped flags, its database.</summary>
public static class RolloutApiBuilderExtensions
{
    /// <summary>Gives RolloutApi an operator key and a viewer key (roles as RolloutApi's <c>Auth:ApiKeys</c> expects).</summary>
    public static IResourceBuilder<ProjectResource> WithApiKeys(
        this IResourceBuilder<ProjectResource> rolloutApi,
        IResourceBuilder<ParameterResource> operatorKey,
        IResourceBuilder<ParameterResource> viewerKey) =>
        rolloutApi
            .WithConfig(ConfigKeys.Auth.ApiKeyKey(Roles.Operator), operatorKey)
            .WithConfig(ConfigKeys.Auth.ApiKeyRole(Roles.Operator), Roles.Operator)
            .WithConfig(ConfigKeys.Auth.ApiKeyKey(Roles.Viewer), viewerKey)
            .WithConfig(ConfigKeys.Auth.ApiKeyRole(Roles.Viewer), Roles.Viewer);

    /// <summary>
    /// Seeds RolloutApi with the agents of these track resources: where each track runs (<c>http://&lt;resource&gt;</c>,
    /// resolved by service discovery) and its version label, both read from the resource's <see cref="AgentTrackAnnotation"/>.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithAgentSeed(this IResourceBuilder<ProjectResource> rolloutApi, params IEnumerable<IResource> tracks)
    {
        foreach (var resource in tracks)
        {
            var track = resource.GetAgentTrack();
            var isStable = track.Track == Tracks.Stable;
            rolloutApi
                .WithConfig(isStable ? ConfigKeys.Agents.StableDestination(track.Agent) : ConfigKeys.Agents.CanaryDestination(track.Agent), $"http://{resource.Name}")
                .WithConfig(isStable ? ConfigKeys.Agents.StableVersion(track.Agent) : ConfigKeys.Agents.CanaryVersion(track.Agent), track.Version);
        }

        return rolloutApi;
    }

    /// <summary>Points RolloutApi's SQLite file somewhere else (tests use a temporary file).</summary>
    public static IResourceBuilder<ProjectResource> WithDatabasePath(this IResourceBuilder<ProjectResource> rolloutApi, string? path) =>
        string.IsNullOrWhiteSpace(path) ? rolloutApi : rolloutApi.WithConfig(ConfigKeys.RolloutApi.DatabasePath, path);

    /// <summary>
    /// Hands RolloutApi the flags the reference agent ships (the <c>feature_management</c> section of AgentWorker's
    /// appsettings.json), so that the agent starts with its flags defined and every kill switch has a flag to act on.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithShippedFlags(this IResourceBuilder<ProjectResource> rolloutApi, string agent)
    {
        var projectDirectory = Path.GetDirectoryName(new Projects.AgentWorker().ProjectPath)!;
        var settings = JsonNode.Parse(
            File.ReadAllText(Path.Combine(projectDirectory, "appsettings.json")),
            documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var flags = settings?["feature_management"]
            ?? throw new InvalidOperationException("AgentWorker/appsettings.json has no feature_management section: the agent ships no flags.");
        return rolloutApi.WithConfig(ConfigKeys.Agents.Flags(agent), flags.ToJsonString());
    }
}
