using AgentAspire.Contracts;
using AppHost;

var builder = DistributedApplication.CreateBuilder(args);

// Version labels of the two tracks, and the two API keys (generated once, kept in user secrets).
var stableVersion = builder.AddParameter(ParameterNames.StableVersion, new OverridableParameterDefault("1.0.0"));
var canaryVersion = builder.AddParameter(ParameterNames.CanaryVersion, new OverridableParameterDefault("1.1.0"));
var operatorKey = builder.AddApiKeyParameter(ParameterNames.OperatorApiKey);
var viewerKey = builder.AddApiKeyParameter(ParameterNames.ViewerApiKey);

var rolloutApi = builder.AddProject<Projects.RolloutApi>(ResourceNames.RolloutApi)
    .WithApiKeys(operatorKey, viewerKey)
    .WithAgentSeed(ResourceNames.DefaultAgent, stableVersion, canaryVersion)
    .WithShippedFlags(ResourceNames.DefaultAgent)
    .WithDatabasePath(builder.Configuration[ConfigurationKeys.DatabasePath])
    .WithHttpHealthCheck(HealthPaths.Health)
    .WithUrlForEndpoint("http", url => url.Url = "/scalar")
    .WithUrlForEndpoint("http", endpoint => new() { Url = "/rollouts", DisplayText = "Rollout page", Endpoint = endpoint });

// Local runs only: the upstream API the reference agent calls, with faults per calling track (see README).
var upstream = builder.ExecutionContext.IsRunMode ? builder.AddUpstreamSimulator() : null;

var stable = builder.AddAgentTrack(ResourceNames.AgentStable, Tracks.Stable, stableVersion, rolloutApi, viewerKey)
    .WithRolloutCommands(Tracks.Stable, rolloutApi, operatorKey);

var canary = builder.AddAgentTrack(ResourceNames.AgentCanary, Tracks.Canary, canaryVersion, rolloutApi, viewerKey)
    .WithRolloutCommands(Tracks.Canary, rolloutApi, operatorKey);

if (upstream is not null)
{
    stable.WithUpstream(upstream);
    canary.WithUpstream(upstream);
}

var gateway = builder.AddProject<Projects.Gateway>(ResourceNames.Gateway)
    .WithReference(stable).WithReference(canary).WithReference(rolloutApi)
    .WithConfig(ConfigKeys.Gateway.Agent, ResourceNames.DefaultAgent)
    .WithConfig(ConfigKeys.Gateway.ApiKey, viewerKey)
    .WithConfig(ConfigKeys.Gateway.StableVersion, stableVersion)
    .WithConfig(ConfigKeys.Gateway.CanaryVersion, canaryVersion)
    .WaitFor(stable).WaitFor(canary).WaitFor(rolloutApi)
    .WithHttpHealthCheck(HealthPaths.Health)
    .WithExternalHttpEndpoints();

// Analysis and the live view (rollout page, CLI --watch) read every gateway replica's /gateway/stats (service discovery:
// http://gateway). A reference, not a WaitFor: the gateway already waits for RolloutApi.
rolloutApi.WithReference(gateway);

builder.AddDemoTrafficIfEnabled(gateway);
builder.AddKubernetesPublisher();

builder.Build().Run();
