using System.ComponentModel.DataAnnotations;

namespace RolloutApi.Hosting;

/// <summary>Service-wide settings (section <c>RolloutApi</c>).</summary>
public sealed class RolloutApiOptions
{
    /// <summary>The SQLite file. Relative paths resolve against the content root; empty means <c>.data/rollout-api.db</c>.</summary>
    public string? DatabasePath { get; set; }

    /// <summary>How many revisions an agent keeps (the stable one and any in a running rollout are never pruned).</summary>
    [Range(2, 1000)]
    public int RevisionHistoryLimit { get; set; } = 10;

    /// <summary>The longest the reconciler sleeps when nothing is due; it also wakes on every mutation and timer.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often an idle routing stream sends a comment so that proxies keep the connection open.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan StreamHeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a writer waits for SQLite's lock (another process, e.g. a backup) before failing.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Replicas the canary track gets while a rollout runs (drivers that scale; the local driver ignores it).</summary>
    [Range(1, 1000)]
    public int CanaryReplicas { get; set; } = 1;

    /// <summary>
    /// How long a call that changed routing (abort, promote, a step, a weight set by hand) waits for every known gateway
    /// to report the new revision before it returns with how many did. Bounded so that a gateway cut off from RolloutApi
    /// delays an abort by at most this much; the answer says which gateways had not applied it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan GatewayAckTimeout { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How long a gateway that disconnected still counts as known (its acknowledgement then counts as missing). A gateway that
    /// stops gracefully is forgotten at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan GatewayForgetAfter { get; set; } = TimeSpan.FromMinutes(10);
}
