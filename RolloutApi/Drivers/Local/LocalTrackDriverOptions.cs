using AgentAspire.Contracts;

namespace RolloutApi.Drivers.Local;

/// <summary>
/// Where the AppHost's track controller listens (section <c>Drivers:Local</c>). The AppHost sets both when it runs
/// RolloutApi; without them (RolloutApi on its own, or in a test) the local driver only relabels, and refuses builds.
/// </summary>
public sealed class LocalTrackDriverOptions
{
    public const string SectionName = ConfigKeys.Drivers.Local;

    /// <summary>The AppHost's track control endpoint, e.g. <c>http://127.0.0.1:40123</c>.</summary>
    public Uri? ControlUrl { get; set; }

    /// <summary>The AppHost's per-run bearer token for that endpoint.</summary>
    public string? Token { get; set; }

    /// <summary>How long a track may take to restart on a build and answer ready (the AppHost gives it 2 minutes).</summary>
    public TimeSpan DeployTimeout { get; set; } = TimeSpan.FromMinutes(2.5);

    public bool HasController => ControlUrl is not null;
}
