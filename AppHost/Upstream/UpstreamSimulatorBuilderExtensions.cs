using System.Net.Http.Headers;
using AgentAspire.Contracts;
using AppHost.Model;

namespace AppHost.Upstream;

/// <summary>
/// The upstream-API simulator the reference agent calls locally, with dashboard commands that make one track's calls
/// slow or failing (local runs only: on a cluster the agent calls its real upstream, if any).
/// </summary>
public static class UpstreamSimulatorBuilderExtensions
{
    /// <summary>The path agents post each item to, on the simulator.</summary>
    public const string UpstreamWorkPath = "/api/work";

    /// <summary>The simulator's control API: <c>PUT /faults/{track}</c> with <c>{"latencyMs":..,"errorRate":..}</c>.</summary>
    public const string UpstreamFaultsPath = "/faults";

    public const string SlowCanaryCommand = "upstream-slow-canary";
    public const string FailCanaryCommand = "upstream-fail-canary";
    public const string ResetFaultsCommand = "upstream-reset-faults";

    /// <summary>The simulator, with its fault buttons in the dashboard.</summary>
    public static IResourceBuilder<ProjectResource> AddUpstreamSimulator(this IDistributedApplicationBuilder builder) =>
        builder.AddProject<Projects.UpstreamApi>(ResourceNames.UpstreamApi)
            .WithRole(ResourceRole.UpstreamSimulator)
            .WithHttpHealthCheck(HealthPaths.Health)
            .WithUrlForEndpoint("http", url => url.Url = UpstreamFaultsPath)
            .WithFaultCommand(SlowCanaryCommand, "Canary upstream: +1 s latency", HttpMethod.Put, Tracks.Canary,
                """{"latencyMs":1000,"errorRate":0}""", "Clock")
            .WithFaultCommand(FailCanaryCommand, "Canary upstream: fail 50 %", HttpMethod.Put, Tracks.Canary,
                """{"latencyMs":0,"errorRate":0.5}""", "ErrorCircle")
            .WithFaultCommand(ResetFaultsCommand, "Upstream: clear all faults", HttpMethod.Delete, track: null, body: null, "ArrowReset");

    /// <summary>Points an agent track at the simulator: each item it processes is posted there, under its track's faults.</summary>
    public static IResourceBuilder<T> WithUpstream<T>(this IResourceBuilder<T> agentTrack, IResourceBuilder<ProjectResource> upstream)
        where T : IResourceWithEnvironment =>
        agentTrack
            .WithReference(upstream)
            .WithConfig(ConfigKeys.Worker.UpstreamUrl, $"http://{upstream.Resource.Name}{UpstreamWorkPath}");

    private static IResourceBuilder<ProjectResource> WithFaultCommand(
        this IResourceBuilder<ProjectResource> upstream, string name, string displayName, HttpMethod method, string? track, string? body, string icon) =>
        upstream.WithHttpCommand(
            track is null ? UpstreamFaultsPath : $"{UpstreamFaultsPath}/{track}",
            displayName,
            commandName: name,
            commandOptions: new HttpCommandOptions
            {
                Method = method,
                IconName = icon,
                PrepareRequest = context =>
                {
                    if (body is not null)
                    {
                        context.Request.Content = new StringContent(body, MediaTypeHeaderValue.Parse("application/json"));
                    }

                    return Task.CompletedTask;
                },
            });
}
