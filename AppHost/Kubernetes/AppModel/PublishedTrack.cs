namespace AppHost.Kubernetes.AppModel;

/// <summary>
/// Which agent, track and version label a resource runs, with its version resolved for the cluster, and the environment
/// key that carries that version label (set as an environment variable beside the image, where RolloutApi's driver
/// patches it).
/// </summary>
public sealed record PublishedTrack(string AgentName, string Track, string Version, string VersionKey);
