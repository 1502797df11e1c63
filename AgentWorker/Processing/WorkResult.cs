using System.Reflection;

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
public sealed record ServedBy(string Agent, string Track, string Version)
{
    /// <summary>
    /// The source the serving build was compiled from: AgentWorker's informational version (<c>1.0.0+&lt;commit&gt;</c>, or what
    /// <c>-p:InformationalVersion=…</c> set). Two builds of different code answer differently here, whatever their labels.
    /// </summary>
    public string Code { get; init; } = CompiledCode;

    private static readonly string CompiledCode =
        typeof(ServedBy).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
