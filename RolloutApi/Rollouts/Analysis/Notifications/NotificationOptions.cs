using System.ComponentModel.DataAnnotations;

namespace RolloutApi.Rollouts.Analysis.Notifications;

/// <summary>
/// Where every rollout transition and analysis verdict is sent as a CloudEvent (section <c>Notifications</c>):
/// <c>Notifications:Webhooks:{name}:Url</c> and <c>:Secret</c> (the HMAC-SHA256 key the receiver verifies with).
/// </summary>
public sealed class NotificationOptions
{
    public const string SectionName = "Notifications";

    public Dictionary<string, WebhookOptions> Webhooks { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How often the dispatcher looks for due deliveries when nothing wakes it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The first retry's delay; it doubles per attempt up to <see cref="MaxBackoff"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Attempts before a delivery is given up (kept in the outbox as dead, with its last error).</summary>
    [Range(1, 1000)]
    public int MaxAttempts { get; set; } = 20;

    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>One webhook.</summary>
public sealed class WebhookOptions
{
    [Required]
    public Uri? Url { get; set; }

    /// <summary>The HMAC key; at least 16 characters.</summary>
    [Required, MinLength(16)]
    public string Secret { get; set; } = string.Empty;
}
