using System.Net.Http.Headers;
using AgentAspire.Contracts;
using AppHost.Model;

namespace AppHost.Dashboard;

/// <summary>
/// Buttons on the agent track resources in the Aspire dashboard that drive the agent's rollout through RolloutApi's
/// HTTP API, authenticated with the operator key; the API stays the one writer of rollout state.
/// </summary>
public static class DashboardCommands
{
    public const string Promote = "rollout-promote";
    public const string Abort = "rollout-abort";
    public const string Undo = "rollout-undo";
    public const string KillSwitch = "flags-kill-switch";

    /// <summary>
    /// Promote, abort, undo and the kill switch on an agent track, for the agent and track its
    /// <see cref="AgentTrackAnnotation"/> names (call after <c>WithAgentTrack</c>).
    /// </summary>
    public static IResourceBuilder<T> WithRolloutCommands<T>(
        this IResourceBuilder<T> agentTrack,
        IResourceBuilder<ProjectResource> rolloutApi,
        IResourceBuilder<ParameterResource> operatorKey)
        where T : IResourceWithEndpoints
    {
        var annotation = agentTrack.Resource.GetAgentTrack();
        var (agent, track) = (annotation.Agent, annotation.Track);
        return agentTrack
            .WithRolloutApiCommand(rolloutApi, operatorKey, Promote, "Promote rollout",
                $"{RolloutApiPaths.Rollout(agent)}/promote", "ArrowCircleUp", confirmation: null)
            .WithRolloutApiCommand(rolloutApi, operatorKey, Abort, "Abort rollout",
                $"{RolloutApiPaths.Rollout(agent)}/abort", "DismissCircle",
                confirmation: "Abort the rollout? The canary stops receiving traffic at once.")
            .WithRolloutApiCommand(rolloutApi, operatorKey, Undo, "Undo to previous revision",
                RolloutApiPaths.Undo(agent), "ArrowUndo",
                confirmation: "Re-apply the previous revision on the stable track?")
            .WithRolloutApiCommand(rolloutApi, operatorKey, KillSwitch, $"Kill switch: all flags off ({track})",
                $"/api/agents/{Uri.EscapeDataString(agent)}/flags/kill", "Power",
                confirmation: $"Turn every feature flag off on the {track} track? Agents see it within milliseconds.",
                body: $$"""{"track":"{{track}}"}""");
    }

    /// <summary>A dashboard command that POSTs to a RolloutApi path with the operator key.</summary>
    public static IResourceBuilder<T> WithRolloutApiCommand<T>(
        this IResourceBuilder<T> resource,
        IResourceBuilder<ProjectResource> rolloutApi,
        IResourceBuilder<ParameterResource> operatorKey,
        string name,
        string displayName,
        string path,
        string icon,
        string? confirmation,
        string body = "{}")
        where T : IResourceWithEndpoints =>
        // The endpoint selector overload: the request goes to RolloutApi, not to the resource the button is on.
        resource.WithHttpCommand(path, displayName, endpointSelector: () => rolloutApi.GetEndpoint("http"), commandName: name, commandOptions: new HttpCommandOptions
        {
            Method = HttpMethod.Post,
            IconName = icon,
            ConfirmationMessage = confirmation,
            PrepareRequest = async context =>
            {
                var key = await operatorKey.Resource.GetValueAsync(context.CancellationToken);
                context.Request.Headers.Add(AgentHeaders.ApiKey, key);
                context.Request.Content ??= new StringContent(body, MediaTypeHeaderValue.Parse("application/json"));
            },
        });
}
