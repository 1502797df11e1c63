namespace AppHost.Model;

/// <summary>
/// The part a resource plays in AgentAspire. The Kubernetes publisher and the dashboard commands act on roles, never on
/// resource names, so a renamed resource (or a second agent) keeps its behaviour.
/// </summary>
public enum ResourceRole
{
    /// <summary>RolloutApi: the one writer of rollout state (one replica, a volume for SQLite, RBAC for its track driver).</summary>
    ControlPlane,

    /// <summary>The gateway that splits an agent's traffic between its tracks (faces users when published).</summary>
    Gateway,

    /// <summary>One track of an agent; the resource also carries an <see cref="AgentTrackAnnotation"/>.</summary>
    AgentTrack,

    /// <summary>The upstream API the reference agent calls, simulated locally (never published).</summary>
    UpstreamSimulator,

    /// <summary>The opt-in client that keeps the charts moving (never published).</summary>
    DemoTraffic,

    /// <summary>The opt-in local Prometheus that scrapes every service (never published: on Kubernetes it is the cluster's).</summary>
    Metrics,
}
