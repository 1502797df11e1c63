namespace AgentWorker.Processing;

/// <summary>A work item as a client sends it: every field optional here, so that validation can name what is missing.</summary>
public sealed class WorkItemRequest
{
    /// <summary>The client's id for the item; generated when absent.</summary>
    public string? Id { get; init; }

    /// <summary>What sort of work this is, e.g. <c>text</c> or <c>summarize</c>.</summary>
    public string? Kind { get; init; }

    public PayloadRequest? Payload { get; init; }
}

/// <summary>The content of a work item as a client sends it.</summary>
public sealed class PayloadRequest
{
    public string? Text { get; init; }

    public IReadOnlyList<string?>? Tags { get; init; }

    public IReadOnlyDictionary<string, string?>? Metadata { get; init; }
}

/// <summary>A validated, normalised work item: what the queue holds and what the upstream receives.</summary>
public sealed record WorkItem(string Id, string Kind, WorkPayload Payload);

/// <summary>Normalised content: trimmed text with collapsed whitespace, lower-case sorted unique tags, sorted metadata.</summary>
public sealed record WorkPayload(string Text, IReadOnlyList<string> Tags, IReadOnlyDictionary<string, string> Metadata);

/// <summary>The limits a work item must respect; also quoted in validation messages.</summary>
public static class WorkItemLimits
{
    public const int MaxIdLength = 64;
    public const int MaxKindLength = 32;
    public const int MaxTextLength = 16 * 1024;
    public const int MaxTags = 16;
    public const int MaxTagLength = 32;
    public const int MaxMetadataEntries = 16;
    public const int MaxMetadataKeyLength = 64;
    public const int MaxMetadataValueLength = 256;
}
