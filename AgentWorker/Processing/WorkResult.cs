namespace AgentWorker.Processing;

/// <summary>What processing a work item produced, and which agent, track, version and behaviour produced it.</summary>
public sealed record WorkResult(
    string Id,
    string Kind,
    WorkPayload Payload,
    TextAnalysis Analysis,
    string Behaviour,
    string? Variant,
    UpstreamCallResult? Upstream,
    ServedBy ServedBy,
    DateTimeOffset ProcessedAt);

/// <summary>The local work done on the text. <see cref="Keywords"/> is present only with enriched output.</summary>
public sealed record TextAnalysis(
    int WordCount,
    int SentenceCount,
    int CharacterCount,
    string ContentHash,
    IReadOnlyList<string>? Keywords);

/// <summary>The upstream call made for an item: its HTTP status and how long it took.</summary>
public sealed record UpstreamCallResult(int StatusCode, double DurationSeconds);

/// <summary>The agent process that served a result.</summary>
public sealed record ServedBy(string Agent, string Track, string Version);
