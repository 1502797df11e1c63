using AgentAspire.Contracts;
using AppHost;
using AppHost.Agents;
using AppHost.ControlPlane;
using AppHost.Dashboard;
using AppHost.DemoTraffic;
using AppHost.Gateway;
using AppHost.Local;
using AppHost.Model;
using AppHost.Prometheus;
using AppHost.Upstream;

var builder = DistributedApplication.CreateBuilder(args);

// Version labels of the two tracks, and the two API keys (generated once, kept in user secrets).
var stableVersion = builder.AddParameter(ParameterNames.StableVersion, new OverridableParameterDefault("1.0.0"));
var canaryVersion = builder.AddParameter(ParameterNames.CanaryVersion, new OverridableParameterDefault("1.1.0"));
var operatorKey = builder.AddApiKeyParameter(ParameterNames.OperatorApiKey);
var viewerKey = builder.AddApiKeyParameter(ParameterNames.ViewerApiKey);

var rolloutApi = builder.AddProject<Projects.RolloutApi>(ResourceNames.RolloutApi)
    .WithRole(ResourceRole.ControlPlane)
    .WithApiKeys(operatorKey, viewerKey)
    .WithShippedFlags(ResourceNames.DefaultAgent)
    .WithDatabasePath(builder.Configuration[ConfigurationKeys.DatabasePath])
    .WithHttpHealthCheck(HealthPaths.Health)
    .WithUrlForEndpoint("http", url => url.Url = "/scalar")
    .WithUrlForEndpoint("http", endpoint => new() { Url = "/rollouts", DisplayText = "Rollout page", Endpoint = endpoint });

// Local runs only: the upstream API the reference agent calls, with faults per calling track (see README), and the tracks
// as processes on builds from the local build store (README: canary your working copy), moved by RolloutApi's local driver.
var upstream = builder.ExecutionContext.IsRunMode ? builder.AddUpstreamSimulator() : null;
var localTracks = builder.ExecutionContext.IsRunMode ? builder.AddLocalTracks() : null;

var stable = AddTrack(ResourceNames.AgentStable, Tracks.Stable, stableVersion);
var canary = AddTrack(ResourceNames.AgentCanary, Tracks.Canary, canaryVersion);

// RolloutApi learns where each track runs and its version label from the track resources themselves.
rolloutApi.WithAgentSeed(stable, canary);
if (localTracks is not null)
{
    rolloutApi.WithLocalTrackControl(localTracks);
}

var gateway = builder.AddProject<Projects.Gateway>(ResourceNames.Gateway)
    .WithRole(ResourceRole.Gateway)
    .WithAgentTracks(stable, canary)
    .WithReference(rolloutApi)
    .WithConfig(ConfigKeys.Gateway.ApiKey, viewerKey)
    .WaitFor(rolloutApi)
    .WithHttpHealthCheck(HealthPaths.Health)
    .WithExternalHttpEndpoints();

// Analysis and the live view (rollout page, CLI --watch) read every gateway replica's /gateway/stats (service discovery:
// http://gateway). A reference, not a WaitFor: the gateway already waits for RolloutApi.
rolloutApi.WithReference(gateway);

builder.AddDemoTrafficIfEnabled(gateway);
builder.AddPrometheusIfEnabled(rolloutApi);
builder.AddKubernetesPublisher();

builder.Build().Run();

IResourceWithEndpoints AddTrack(string name, string track, IResourceBuilder<ParameterResource> version) =>
    localTracks is null
        ? builder.AddAgentTrack(name, track, version, rolloutApi, viewerKey)
            .WithRolloutCommands(rolloutApi, operatorKey).Resource
        : builder.AddLocalAgentTrack(localTracks, track, version, rolloutApi, viewerKey)
            .WithRolloutCommands(rolloutApi, operatorKey)
            .WithUpstream(upstream!)
            .WithStoreWorkingCopyCommand(localTracks)
            .Resource;
