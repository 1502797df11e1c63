using System.Text.Json.Serialization;
using RolloutApi.Rollouts;

namespace RolloutApi.Live;

/// <summary>
/// One frame of <c>GET /api/agents/{agent}/live</c>: the agent, its newest rollout and the traffic the gateways saw, read
/// together once per interval. <see cref="Sequence"/> is the event id; <see cref="TrafficError"/> says why
/// <see cref="Traffic"/> is missing (no gateway configured, or none answered). <see cref="FlagVersion"/> is the agent's flag
/// version (the If-Match of flag changes): a watcher re-reads flags and kill switches when it moves.
/// </summary>
public sealed record LiveSnapshot(
    long Sequence,
    DateTimeOffset At,
    AgentView Agent,
    RolloutStatus? Rollout,
    long FlagVersion,
    TrafficSample? Traffic,
    string? TrafficError);

/// <summary>Per-track traffic over the last <see cref="WindowSeconds"/>, summed over every gateway that answered.</summary>
public sealed record TrafficSample(
    DateTimeOffset At,
    int WindowSeconds,
    int Gateways,
    int Weight,
    TrackSample Stable,
    TrackSample Canary);

/// <summary>One track: requests per second, error rate (5xx + transport over requests) and latency percentiles in ms.</summary>
public sealed record TrackSample(
    string Track,
    string Version,
    long Requests,
    double RequestsPerSecond,
    long Errors,
    double ErrorRate,
    double? P50,
    double? P95,
    double? P99);

/// <summary>Who the presented key is, for a page that enables its buttons only for operators.</summary>
public sealed record CallerView(string Name, string Role, [property: JsonPropertyName("canOperate")] bool CanOperate);
