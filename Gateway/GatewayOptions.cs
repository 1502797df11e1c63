using Microsoft.Extensions.Options;
using ServiceDefaults.Contracts;

namespace Gateway;

/// <summary>The gateway's configuration, bound from the <c>Gateway</c> section and validated at start.</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>The agent whose traffic this gateway splits (its entry in the routing table).</summary>
    public string Agent { get; set; } = ResourceNames.DefaultAgent;

    /// <summary>RolloutApi's base address; a service-discovery name such as <c>http://rollout-api</c>.</summary>
    public string RolloutApi { get; set; } = $"http://{ResourceNames.RolloutApi}";

    /// <summary>The viewer API key sent as <c>X-Api-Key</c> to RolloutApi's read-only routing stream; optional.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Where the stable track runs and its version label until a routing table says otherwise.</summary>
    public TrackOptions Stable { get; set; } = new() { Destination = $"http://{ResourceNames.AgentStable}" };

    /// <summary>Where the canary track runs and its version label until a routing table says otherwise.</summary>
    public TrackOptions Canary { get; set; } = new() { Destination = $"http://{ResourceNames.AgentCanary}" };

    /// <summary>The canary weight (basis points) used until the first routing table arrives; 0 sends all to stable.</summary>
    public int InitialWeight { get; set; } = Weights.Min;

    /// <summary>The first delay before reconnecting to the routing stream; doubles per failed attempt.</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest delay between reconnection attempts.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Reconnect when the routing stream is silent this long (RolloutApi sends a keep-alive comment every 15 s by
    /// default); zero or negative turns the check off.
    /// </summary>
    public TimeSpan StreamIdleTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>How long a replica that passive health took out stays out before it is tried again.</summary>
    public TimeSpan ReactivationPeriod { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>One track's destination (a URL, usually a service-discovery name) and version label.</summary>
public sealed class TrackOptions
{
    public string Destination { get; set; } = "";

    public string Version { get; set; } = "0.0.0";
}

/// <summary>Rejects a configuration the gateway cannot route with, at start rather than on the first request.</summary>
internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Agent))
        {
            failures.Add("Gateway:Agent is required.");
        }

        RequireHttpUrl(options.RolloutApi, "Gateway:RolloutApi", failures);
        RequireHttpUrl(options.Stable.Destination, "Gateway:Stable:Destination", failures);
        RequireHttpUrl(options.Canary.Destination, "Gateway:Canary:Destination", failures);
        if (string.IsNullOrWhiteSpace(options.Stable.Version) || string.IsNullOrWhiteSpace(options.Canary.Version))
        {
            failures.Add("Gateway:Stable:Version and Gateway:Canary:Version must not be empty.");
        }

        if (!Weights.IsValid(options.InitialWeight))
        {
            failures.Add($"Gateway:InitialWeight must be between {Weights.Min} and {Weights.Max} basis points.");
        }

        if (options.ReconnectMinDelay <= TimeSpan.Zero || options.ReconnectMaxDelay < options.ReconnectMinDelay)
        {
            failures.Add("Gateway:ReconnectMinDelay must be positive and not above Gateway:ReconnectMaxDelay.");
        }

        if (options.ReactivationPeriod <= TimeSpan.Zero)
        {
            failures.Add("Gateway:ReactivationPeriod must be positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    private static void RequireHttpUrl(string? value, string key, List<string> failures)
    {
        if (!IsHttpUrl(value))
        {
            failures.Add($"{key} must be an absolute http(s) URL, e.g. a service-discovery name such as http://agent-stable; was '{value}'.");
        }
    }
}
