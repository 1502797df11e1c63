using AgentWorker.Processing;

namespace AgentWorker.Tests.Support;

/// <summary>Valid work items and their JSON for tests.</summary>
internal static class Items
{
    public static WorkItem Item(string id, string text = "hello world") =>
        new(id, "text", new WorkPayload(text, [], new SortedDictionary<string, string>(StringComparer.Ordinal)));

    public static WorkItem[] Many(string prefix, int count) =>
        [.. Enumerable.Range(0, count).Select(i => Item($"{prefix}-{i}"))];

    /// <summary>A work item as a client sends it (the shape the whole-app tests use too).</summary>
    public static object Json(string id, string text = "hello world") => new { id, kind = "text", payload = new { text } };

    public static object Batch(params string[] ids) => new { items = ids.Select(id => Json(id)).ToArray() };
}
