namespace RolloutApi.Model;

/// <summary>An agent's row: configuration, the stable revision, the weight and its routing revision.</summary>
public sealed record AgentRecord(
    string Name,
    string StableDestination,
    string CanaryDestination,
    string IdleCanaryVersion,
    string? Image,
    int StableRevision,
    int LastRevision,
    int Weight,
    long RouteRevision,
    DateTimeOffset CreatedAt);
