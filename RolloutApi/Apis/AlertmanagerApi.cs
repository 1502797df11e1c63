using System.Security.Claims;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using RolloutApi.Auth;
using RolloutApi.Http;
using RolloutApi.Rollouts;
using RolloutApi.Rollouts.Commands;

namespace RolloutApi.Apis;

/// <summary>Alertmanager's webhook payload (version 4), the fields the receiver reads.</summary>
public sealed record AlertmanagerPayload(
    [property: JsonPropertyName("version")] string? Version,
    [property: JsonPropertyName("status")] string? Status,
    [property: JsonPropertyName("receiver")] string? Receiver,
    [property: JsonPropertyName("alerts")] IReadOnlyList<AlertmanagerAlert> Alerts)
{
    // Alertmanager sends more (groupKey, truncatedAlerts, externalURL, groupLabels, commonLabels, …); they are not needed.
    [JsonExtensionData]
    public Dictionary<string, System.Text.Json.JsonElement>? Rest { get; init; }
}

/// <summary>One alert of the payload.</summary>
public sealed record AlertmanagerAlert(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("labels")] IReadOnlyDictionary<string, string> Labels,
    [property: JsonPropertyName("annotations")] IReadOnlyDictionary<string, string>? Annotations = null)
{
    [JsonExtensionData]
    public Dictionary<string, System.Text.Json.JsonElement>? Rest { get; init; }
}

/// <summary>What the receiver did with one alert.</summary>
public sealed record AlertOutcome(
    [property: JsonPropertyName("alert")] string Alert,
    [property: JsonPropertyName("agent")] string? Agent,
    [property: JsonPropertyName("result")] string Result,
    [property: JsonPropertyName("rolloutId")] long? RolloutId = null);

/// <summary>
/// <c>POST /api/alerts/alertmanager</c>: an Alertmanager webhook receiver (Operator key as a Bearer token:
/// <c>http_config.authorization.credentials</c>). Every firing alert with an <c>agent</c> label aborts that agent's active
/// rollout, as an operator's abort would (weight 0, flags and routing in one transaction), with the alert as the reason.
/// Resolved alerts and alerts for an agent with no active rollout change nothing; the answer lists what happened to each.
/// </summary>
public static class AlertmanagerApi
{
    public const string Path = "/api/alerts/alertmanager";
    public const string AgentLabel = "agent";
    public const string ActorPrefix = "alertmanager:";

    public static IEndpointRouteBuilder MapAlertmanagerApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(Path, ReceiveAlerts)
            .WithTags("Analysis")
            .WithName(nameof(ReceiveAlerts))
            .WithSummary("Alertmanager webhook: a firing alert labelled agent=<name> aborts that agent's active rollout.")
            .RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblems(StatusCodes.Status400BadRequest);
        return app;
    }

    public static async Task<Results<Ok<IReadOnlyList<AlertOutcome>>, ProblemHttpResult>> ReceiveAlerts(
        AlertmanagerPayload payload, ClaimsPrincipal user, RolloutCommands commands, CancellationToken cancellationToken)
    {
        if (payload.Alerts is null)
        {
            return ApiResults.Problem(OperationError.Invalid("alerts", "An Alertmanager payload has an 'alerts' array."));
        }

        var outcomes = new List<AlertOutcome>();
        foreach (var alert in payload.Alerts)
        {
            var name = alert.Labels.GetValueOrDefault("alertname") ?? "(unnamed)";
            if (!string.Equals(alert.Status, "firing", StringComparison.Ordinal))
            {
                outcomes.Add(new AlertOutcome(name, alert.Labels.GetValueOrDefault(AgentLabel), "ignored: not firing"));
                continue;
            }

            if (alert.Labels.GetValueOrDefault(AgentLabel) is not { Length: > 0 } agent)
            {
                outcomes.Add(new AlertOutcome(name, null, "ignored: no 'agent' label"));
                continue;
            }

            var summary = alert.Annotations?.GetValueOrDefault("summary") ?? alert.Annotations?.GetValueOrDefault("description");
            var reason = $"Alertmanager alert {name} firing{(summary is null ? string.Empty : $": {summary}")}";
            if (reason.Length > AuditReasons.MaxLength)
            {
                reason = reason[..AuditReasons.MaxLength];
            }

            var outcome = await commands.AbortAsync(agent, reason, Precondition.None, ActorPrefix + Actor.Of(user), cancellationToken);
            outcomes.Add(outcome.Error is { } error
                ? new AlertOutcome(name, agent, $"not aborted: {error.Detail}")
                : new AlertOutcome(name, agent, "aborted", outcome.Value!.Id));
        }

        return TypedResults.Ok<IReadOnlyList<AlertOutcome>>(outcomes);
    }
}
