using System.Net.Http.Headers;
using ServiceDefaults.Contracts;

namespace AppHost;

/// <summary>
/// Buttons on the agent resources in the Aspire dashboard that drive the agent's rollout through RolloutApi's
/// HTTP API, authenticated with the operator key; the API stays the one writer of rollout state.
/// </summary>
public static class DashboardCommands
{
    public const string Promote = "rollout-promote";
    public const string Abort = "rollout-abort";
    public const string Undo = "rollout-undo";

    public static IResourceBuilder<ProjectResource> WithRolloutCommands(
        this IResourceBuilder<ProjectResource> agentTrack,
        IResourceBuilder<ProjectResource> rolloutApi,
        IResourceBuilder<ParameterResource> operatorKey)
    {
        var agent = ResourceNames.DefaultAgent;
        return agentTrack
            .WithRolloutApiCommand(rolloutApi, operatorKey, Promote, "Promote rollout",
                $"{RolloutApiPaths.Rollout(agent)}/promote", "ArrowCircleUp", confirmation: null)
            .WithRolloutApiCommand(rolloutApi, operatorKey, Abort, "Abort rollout",
                $"{RolloutApiPaths.Rollout(agent)}/abort", "DismissCircle",
                confirmation: "Abort the rollout? The canary stops receiving traffic at once.")
            .WithRolloutApiCommand(rolloutApi, operatorKey, Undo, "Undo to previous revision",
                RolloutApiPaths.Undo(agent), "ArrowUndo",
                confirmation: "Re-apply the previous revision on the stable track?");
    }

    /// <summary>A dashboard command that POSTs to a RolloutApi path with the operator key.</summary>
    public static IResourceBuilder<ProjectResource> WithRolloutApiCommand(
        this IResourceBuilder<ProjectResource> resource,
        IResourceBuilder<ProjectResource> rolloutApi,
        IResourceBuilder<ParameterResource> operatorKey,
        string name,
        string displayName,
        string path,
        string icon,
        string? confirmation) =>
        resource.WithHttpCommand(path, displayName, commandName: name, commandOptions: new HttpCommandOptions
        {
            EndpointSelector = () => rolloutApi.GetEndpoint("http"),
            Method = HttpMethod.Post,
            IconName = icon,
            ConfirmationMessage = confirmation,
            PrepareRequest = async context =>
            {
                var key = await operatorKey.Resource.GetValueAsync(context.CancellationToken);
                context.Request.Headers.Add(AgentHeaders.ApiKey, key);
                context.Request.Content ??= new StringContent("{}", MediaTypeHeaderValue.Parse("application/json"));
            },
        });
}
