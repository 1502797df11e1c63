using AgentAspire.Contracts;
using Microsoft.Extensions.Options;
using ServiceDefaults.Streaming;

namespace AgentAspire.Agent.Flags;

/// <summary>How an agent reaches its flags. Bound from the <c>Flags</c> section and validated at start.</summary>
public sealed class FlagsOptions
{
    public const string SectionName = ConfigKeys.Flags.Section;

    /// <summary>RolloutApi's base address; a service-discovery name locally and on Kubernetes.</summary>
    public string RolloutApi { get; set; } = $"http://{ResourceNames.RolloutApi}";

    /// <summary>A viewer API key for the read-only flag stream (sent as <c>X-Api-Key</c>).</summary>
    public string? ApiKey { get; set; }

    /// <summary>Where the last-known snapshot is kept; empty means a file per agent and track under the temp folder.</summary>
    public string? CachePath { get; set; }

    /// <summary>How long readiness waits for the first snapshot before it settles for last-known or default flags.</summary>
    public TimeSpan ReadyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The first reconnect delay; it doubles per failed attempt (with jitter) up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest reconnect delay.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A stream silent for this long (no event, no keep-alive comment) is treated as dead and reopened: a half-open
    /// connection would otherwise hide kill switches forever. <see cref="Timeout.InfiniteTimeSpan"/> turns it off.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The flag stream's reconnect and idle settings, in the shape the shared SSE subscription takes.</summary>
    internal SseSubscriptionOptions StreamSubscription => new()
    {
        ReconnectDelay = ReconnectDelay,
        MaxReconnectDelay = MaxReconnectDelay,
        IdleTimeout = IdleTimeout,
    };
}

/// <summary>Checks <see cref="FlagsOptions"/> so that a bad value stops the agent at start, not at the first outage.</summary>
internal sealed class FlagsOptionsValidator : IValidateOptions<FlagsOptions>
{
    private static readonly TimeSpan MaxReadyTimeout = TimeSpan.FromMinutes(10);

    public ValidateOptionsResult Validate(string? name, FlagsOptions options)
    {
        var failures = new List<string>();
        if (!Uri.TryCreate(options.RolloutApi, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            failures.Add($"{FlagsOptions.SectionName}:{nameof(FlagsOptions.RolloutApi)} must be an absolute http(s) URL; got '{options.RolloutApi}'.");
        }

        if (options.ReadyTimeout <= TimeSpan.Zero || options.ReadyTimeout > MaxReadyTimeout)
        {
            failures.Add($"{FlagsOptions.SectionName}:{nameof(FlagsOptions.ReadyTimeout)} must be above 0 and at most {MaxReadyTimeout}.");
        }

        if (options.ReconnectDelay <= TimeSpan.Zero || options.ReconnectDelay > options.MaxReconnectDelay)
        {
            failures.Add($"{FlagsOptions.SectionName}:{nameof(FlagsOptions.ReconnectDelay)} must be above 0 and at most {nameof(FlagsOptions.MaxReconnectDelay)}.");
        }

        if (options.IdleTimeout <= TimeSpan.Zero && options.IdleTimeout != Timeout.InfiniteTimeSpan)
        {
            failures.Add($"{FlagsOptions.SectionName}:{nameof(FlagsOptions.IdleTimeout)} must be above 0 (or infinite).");
        }

        if (options.CachePath is { Length: > 0 } path && path.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            failures.Add($"{FlagsOptions.SectionName}:{nameof(FlagsOptions.CachePath)} is not a valid path.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
