namespace RolloutApi.Model;

/// <summary>An immutable revision row.</summary>
public sealed record RevisionRecord(string Agent, int Number, string Version, string ImageTag, DateTimeOffset CreatedAt, string CreatedBy)
{
    /// <summary>The local stored build (content hash) this revision runs, or null for a version label + flag set.</summary>
    public string? Build { get; init; }
}
