using AgentAspire.Contracts;
using Aspire.Hosting.Publishing;

namespace AppHost;

/// <summary>Names of the AppHost's parameters: shared by the composition, the publisher and the tests.</summary>
public static class ParameterNames
{
    public const string StableVersion = "stable-version";
    public const string CanaryVersion = "canary-version";
    public const string OperatorApiKey = "operator-api-key";
    public const string ViewerApiKey = "viewer-api-key";
}

/// <summary>AppHost configuration keys (command line, environment or appsettings).</summary>
public static class ConfigurationKeys
{
    /// <summary>Where RolloutApi keeps its SQLite file; unset, RolloutApi picks its default under its content root.</summary>
    public const string DatabasePath = "AgentAspire:DatabasePath";
}

/// <summary>
/// A parameter's value when configuration (<c>Parameters:&lt;name&gt;</c>) gives none. Unlike a constant value, it lets
/// <c>--Parameters:stable-version=2.0.0</c> on the command line win.
/// </summary>
internal sealed class OverridableParameterDefault(string value) : ParameterDefault
{
    public override string GetDefaultValue() => value;

    public override void WriteToManifest(ManifestPublishingContext context) => context.Writer.WriteString("value", value);
}

/// <summary>The wiring that AppHost.cs reads as one line each: agent tracks, API keys, RolloutApi's seed.</summary>
public static class AgentAspireResourceExtensions
{
    /// <summary>The name of an agent track's one HTTP endpoint.</summary>
    public const string AgentTrackEndpoint = "http";

    /// <summary>A secret API key, generated on first run and kept in the AppHost's user secrets.</summary>
    public static IResourceBuilder<ParameterResource> AddApiKeyParameter(this IDistributedApplicationBuilder builder, string name) =>
        builder.AddParameter(name, new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);

    /// <summary>
    /// One track of the agent: AgentWorker run as <paramref name="name"/>, knowing its agent, track and version,
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
            .WithConfig(ConfigKeys.Agent.Name, ResourceNames.DefaultAgent)
            .WithConfig(ConfigKeys.Agent.Track, track)
            .WithConfig(ConfigKeys.Agent.Version, version)
            .WithConfig(ConfigKeys.Flags.ApiKey, viewerKey)
            // No WaitFor(rolloutApi): an agent must start (and restart) while RolloutApi is down, serving its last-known
            // flags, as it would on Kubernetes. Its readiness still waits for the first flag snapshot (or a timeout),
            // so on a normal start the agents turn healthy after RolloutApi.
            .WithReference(rolloutApi)
            .WithHttpHealthCheck(HealthPaths.Health);

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

    /// <summary>Seeds RolloutApi with the agent it manages: where each track runs and its version label.</summary>
    public static IResourceBuilder<ProjectResource> WithAgentSeed(
        this IResourceBuilder<ProjectResource> rolloutApi,
        string agent,
        IResourceBuilder<ParameterResource> stableVersion,
        IResourceBuilder<ParameterResource> canaryVersion) =>
        rolloutApi
            .WithConfig(ConfigKeys.Agents.StableDestination(agent), $"http://{ResourceNames.AgentStable}")
            .WithConfig(ConfigKeys.Agents.StableVersion(agent), stableVersion)
            .WithConfig(ConfigKeys.Agents.CanaryDestination(agent), $"http://{ResourceNames.AgentCanary}")
            .WithConfig(ConfigKeys.Agents.CanaryVersion(agent), canaryVersion);

    /// <summary>Points RolloutApi's SQLite file somewhere else (tests use a temporary file).</summary>
    public static IResourceBuilder<ProjectResource> WithDatabasePath(this IResourceBuilder<ProjectResource> rolloutApi, string? path) =>
        string.IsNullOrWhiteSpace(path) ? rolloutApi : rolloutApi.WithConfig(ConfigKeys.RolloutApi.DatabasePath, path);
}
