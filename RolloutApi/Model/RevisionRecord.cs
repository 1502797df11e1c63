namespace RolloutApi.Model;

/// <summary>An immutable revision row.</summary>
public sealed record RevisionRecord(string Agent, int Number, string Version, string ImageTag, DateTimeOffset CreatedAt, string CreatedBy);
