// Design: how the app model says "this resource runs a track of an agent".
//
// A track is described by this annotation, never recovered from the resource's type, name or environment strings:
// - Agent, Track: its identity. The Kubernetes publisher, the dashboard commands, RolloutApi's seed and the gateway's
//   wiring read them here. WithAgentTrack writes the Agent:* settings (ConfigKeys.Agent) the agent process reads FROM
//   these values; nothing parses them back.
// - Version: the track's version label, a ReferenceExpression (a literal or a parameter), resolved wherever the model
//   is read (a local run: the process environment; a publish: the Deployment's version label and container env).
// - ProjectPath: the project the track's builds come from. The publisher names the track's image after it
//   (<registry>/<project file name, lowercase>:<tag>), so a track need not be a ProjectResource. Issue 9 runs a track
//   as an ExecutableResource (`dotnet <store>/<hash>/AgentWorker.dll`, arguments computed at each start, restarted
//   through ResourceCommandService); with `.WithAgentTrack(agent, track, version, projectPath)` it publishes as the
//   same Deployment, and the build store knows which project to build.
// - VersionKey: the configuration key that carries the version label (Agent:Version). The publisher sets it as an
//   environment variable on the container beside the image, where RolloutApi's Kubernetes driver patches both in one
//   Deployment patch.
// Attach with builder.WithAgentTrack(...) (AgentTrackExtensions) on any resource with an environment; find tracks with
// resource.TryGetAgentTrack(out ...) or model.GetAgentTracks(). WithAgentTrack also gives the resource the
// ResourceRole.AgentTrack role annotation, so role checks and track checks agree.
using AgentAspire.Contracts;

namespace AppHost.Model;

/// <summary>Says that a resource runs one track of an agent: which agent, which track, which version label, built from which project.</summary>
public sealed class AgentTrackAnnotation : IResourceAnnotation
{
    public AgentTrackAnnotation(string agent, string track, ReferenceExpression version, string projectPath, string versionKey = ConfigKeys.Agent.Version)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(agent);
        ArgumentNullException.ThrowIfNull(version);
        ArgumentException.ThrowIfNullOrWhiteSpace(projectPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(versionKey);
        if (!Tracks.IsKnown(track))
        {
            throw new ArgumentOutOfRangeException(nameof(track), track, $"A track is '{Tracks.Stable}' or '{Tracks.Canary}'.");
        }

        Agent = agent;
        Track = track;
        Version = version;
        ProjectPath = projectPath;
        VersionKey = versionKey;
    }

    /// <summary>The agent's name (its entry in RolloutApi and in the routing table), e.g. <c>agent-worker</c>.</summary>
    public string Agent { get; }

    /// <summary><see cref="Tracks.Stable"/> or <see cref="Tracks.Canary"/>.</summary>
    public string Track { get; }

    /// <summary>The track's version label.</summary>
    public ReferenceExpression Version { get; }

    /// <summary>The project file the track's builds (and published image) come from.</summary>
    public string ProjectPath { get; }

    /// <summary>The project file's name without extension (<c>AgentWorker</c>): the image repository's last segment.</summary>
    public string ProjectName => Path.GetFileNameWithoutExtension(ProjectPath);

    /// <summary>The configuration key (<c>Section:Key</c>) the agent reads its version label from.</summary>
    public string VersionKey { get; }
}
