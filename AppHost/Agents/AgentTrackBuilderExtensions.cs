using AgentAspire.Contracts;
using AppHost.Local;
using AppHost.Model;

namespace AppHost.Agents;

/// <summary>The reference agent's tracks: AgentWorker run once per track, each a resource of its own.</summary>
public static class AgentTrackBuilderExtensions
{
    /// <summary>The name of an agent track's one HTTP endpoint.</summary>
    public const string AgentTrackEndpoint = "http";

    /// <summary>
    /// One track of the agent as a project (publishing: the Kubernetes publisher builds its image): AgentWorker run as <paramref name="name"/>, knowing its agent, track and version,
    /// subscribed to its flags in RolloutApi with the read-only key.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddAgentTrack(
        this IDistributedApplicationBuilder builder,
        string name,
        string track,
        IResourceBuilder<ParameterResource> version,
        IResourceBuilder<ProjectResource> rolloutApi,
        IResourceBuilder<ParameterResource> viewerKey) =>
        builder.AddProject<Projects.AgentWorker>(name, options => options.ExcludeLaunchProfile = true)
            // Its own endpoint per track (and per replica): AgentWorker's launch profile fixes one applicationUrl,
            // which gave both tracks the same address under `dotnet run`, so "canary" traffic reached stable.
            .WithHttpEndpoint(name: AgentTrackEndpoint)
            .WithEnvironment(context =>
            {
                // The launch profile used to set this; without it an agent would start in Production locally.
                if (context.ExecutionContext.IsRunMode)
                {
                    context.EnvironmentVariables["ASPNETCORE_ENVIRONMENT"] = builder.Environment.EnvironmentName;
                }
            })
            .WithAgentTrack(ResourceNames.DefaultAgent, track, version)
            .WithTrackDefaults(rolloutApi, viewerKey);

    /// <summary>
    /// One track of the agent run locally as an executable, <c>dotnet &lt;build&gt;/AgentWorker.dll</c>, on the build the
    /// <paramref name="local"/> controller chooses at each start (a revision's stored build, or the working copy). It is the
    /// same track to the model (its <see cref="AgentTrackAnnotation"/> names AgentWorker's project), the gateway and RolloutApi.
    /// </summary>
    public static IResourceBuilder<ExecutableResource> AddLocalAgentTrack(
        this IDistributedApplicationBuilder builder,
        LocalTracks local,
        string track,
        IResourceBuilder<ParameterResource> version,
        IResourceBuilder<ProjectResource> rolloutApi,
        IResourceBuilder<ParameterResource> viewerKey) =>
        builder.AddTrack(local, track)
            .WithAgentTrack(ResourceNames.DefaultAgent, track, version, new Projects.AgentWorker().ProjectPath)
            .WithTrackDefaults(rolloutApi, viewerKey);

    private static IResourceBuilder<T> WithTrackDefaults<T>(
        this IResourceBuilder<T> agentTrack, IResourceBuilder<ProjectResource> rolloutApi, IResourceBuilder<ParameterResource> viewerKey)
        where T : IResourceWithEnvironment, IResourceWithEndpoints =>
        agentTrack
            .WithConfig(ConfigKeys.Flags.ApiKey, viewerKey)
            // No WaitFor(rolloutApi): an agent must start (and restart) while RolloutApi is down, serving its last-known
            // flags, as it would on Kubernetes. Its readiness still waits for the first flag snapshot (or a timeout),
            // so on a normal start the agents turn healthy after RolloutApi.
            .WithReference(rolloutApi)
            .WithHttpHealthCheck(HealthPaths.Health);
}
