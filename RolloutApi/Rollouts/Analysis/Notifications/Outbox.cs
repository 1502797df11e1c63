using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts.Analysis.Notifications;

/// <summary>A CloudEvent 1.0 in structured JSON mode.</summary>
public sealed record CloudEvent(
    [property: JsonPropertyName("specversion")] string SpecVersion,
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("subject")] string Subject,
    [property: JsonPropertyName("time")] DateTimeOffset Time,
    [property: JsonPropertyName("datacontenttype")] string DataContentType,
    [property: JsonPropertyName("data")] JsonElement Data)
{
    public const string Version = "1.0";
    public const string TypePrefix = "io.agentaspire.";
    public const string MediaType = "application/cloudevents+json";
}

/// <summary>
/// The durable outbox: events are written in the same SQLite transaction as the change they report (one row per configured
/// webhook), so a committed abort is always announced and a rolled-back one never is. <see cref="NotificationDispatcher"/>
/// delivers them after the commit.
/// </summary>
public sealed class Outbox(IOptionsMonitor<NotificationOptions> options)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public event Action? Written;

    /// <summary>Adds <paramref name="type"/> (without the prefix) about <paramref name="subject"/> for every webhook, in <paramref name="work"/>.</summary>
    public async Task AddAsync(UnitOfWork work, string id, string type, string subject, object data, CancellationToken cancellationToken)
    {
        var webhooks = options.CurrentValue.Webhooks;
        if (webhooks.Count == 0)
        {
            return;
        }

        var cloudEvent = new CloudEvent(
            CloudEvent.Version, id, "/rollout-api", CloudEvent.TypePrefix + type, subject, work.Now, "application/json",
            JsonSerializer.SerializeToElement(data, Json));
        var body = JsonSerializer.Serialize(cloudEvent, Json);
        foreach (var name in webhooks.Keys)
        {
            await using var command = work.Command("""
                INSERT INTO notification_outbox (webhook, event_id, type, body, created_at, attempts, next_attempt_at, state)
                VALUES ($webhook, $id, $type, $body, $at, 0, $at, 'Pending')
                ON CONFLICT (webhook, event_id) DO NOTHING
                """).With("$webhook", name).With("$id", id).With("$type", cloudEvent.Type).With("$body", body).With("$at", work.Now);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        work.OnCommitted(() => Written?.Invoke());
    }

    public static string EventId(string kind, long id) => string.Create(CultureInfo.InvariantCulture, $"{kind}-{id}");
}

/// <summary>Every audited transition becomes a CloudEvent (<c>io.agentaspire.rollout.{action}</c>) in the outbox, in its transaction.</summary>
internal sealed class OutboxTransitionParticipant(Outbox outbox) : ITransitionParticipant
{
    public Task OnTransitionAsync(TransitionContext context, CancellationToken cancellationToken)
    {
        var t = context.Transition;
        var subject = t.RolloutId is { } id
            ? string.Create(CultureInfo.InvariantCulture, $"agents/{t.Agent}/rollouts/{id}")
            : $"agents/{t.Agent}";
        return outbox.AddAsync(context.Work, Outbox.EventId("audit", context.AuditId), "rollout." + t.Action.ToLowerInvariant(), subject, new
        {
            agent = t.Agent,
            rolloutId = t.RolloutId,
            action = t.Action,
            actor = t.Actor,
            reason = t.Reason,
            from = t.From,
            to = t.To,
            revision = t.Revision,
            auditId = context.AuditId,
        }, cancellationToken);
    }
}
