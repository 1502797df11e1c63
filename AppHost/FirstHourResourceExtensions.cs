using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentAspire.Contracts;

namespace AppHost;

/// <summary>
/// What makes a fresh local run a living system: the upstream-API simulator the agents call (with dashboard commands
/// that make one track's calls slow or failing), the flags the reference agent ships, and the opt-in demo traffic.
/// </summary>
public static class FirstHourResourceExtensions
{
    /// <summary>Set to true (<c>--AgentAspire:DemoTraffic=true</c>) to add the demo client that keeps the charts moving.</summary>
    public const string DemoTrafficKey = "AgentAspire:DemoTraffic";

    /// <summary>The path agents post each item to, on the simulator.</summary>
    public const string UpstreamWorkPath = "/api/work";

    /// <summary>The simulator's control API: <c>PUT /faults/{track}</c> with <c>{"latencyMs":..,"errorRate":..}</c>.</summary>
    public const string UpstreamFaultsPath = "/faults";

    public const string SlowCanaryCommand = "upstream-slow-canary";
    public const string FailCanaryCommand = "upstream-fail-canary";
    public const string ResetFaultsCommand = "upstream-reset-faults";

    /// <summary>The upstream-API simulator (local runs only: on a cluster the agent calls its real upstream, if any).</summary>
    public static IResourceBuilder<ProjectResource> AddUpstreamSimulator(this IDistributedApplicationBuilder builder) =>
        builder.AddProject<Projects.UpstreamApi>(ResourceNames.UpstreamApi)
            .WithHttpHealthCheck(HealthPaths.Health)
            .WithUrlForEndpoint("http", url => url.Url = UpstreamFaultsPath)
            .WithFaultCommand(SlowCanaryCommand, "Canary upstream: +1 s latency", HttpMethod.Put, Tracks.Canary,
                """{"latencyMs":1000,"errorRate":0}""", "Clock")
            .WithFaultCommand(FailCanaryCommand, "Canary upstream: fail 50 %", HttpMethod.Put, Tracks.Canary,
                """{"latencyMs":0,"errorRate":0.5}""", "ErrorCircle")
            .WithFaultCommand(ResetFaultsCommand, "Upstream: clear all faults", HttpMethod.Delete, track: null, body: null, "ArrowReset");

    /// <summary>Points an agent track at the simulator: each item it processes is posted there, under its track's faults.</summary>
    public static IResourceBuilder<ProjectResource> WithUpstream(
        this IResourceBuilder<ProjectResource> agentTrack, IResourceBuilder<ProjectResource> upstream) =>
        agentTrack
            .WithReference(upstream)
            .WithConfig(ConfigKeys.Worker.UpstreamUrl, $"http://{ResourceNames.UpstreamApi}{UpstreamWorkPath}");

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

    /// <summary>The demo client, when <see cref="DemoTrafficKey"/> is true: work items through the gateway, about 5 a second.</summary>
    public static void AddDemoTrafficIfEnabled(this IDistributedApplicationBuilder builder, IResourceBuilder<ProjectResource> gateway)
    {
        if (!builder.ExecutionContext.IsRunMode || !bool.TryParse(builder.Configuration[DemoTrafficKey], out var enabled) || !enabled)
        {
            return;
        }

        builder.AddProject<Projects.DemoTraffic>(ResourceNames.DemoTraffic)
            .WithReference(gateway)
            .WaitFor(gateway)
            .WithHttpHealthCheck(HealthPaths.Health);
    }

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
