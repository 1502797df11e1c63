using System.Text.Json;
using System.Text.Json.Serialization;
using AgentWorker.Processing;
using AgentWorker.Queue;

namespace AgentWorker.Apis;

/// <summary>The body of <c>POST /api/items/batch</c>: the items to queue, all or none.</summary>
public sealed class BatchRequest
{
    public IReadOnlyList<WorkItemRequest?>? Items { get; init; }
}

/// <summary>The answer to an accepted batch: the ids in request order and the queue's length after it.</summary>
public sealed record BatchAccepted(IReadOnlyList<string> Ids, int QueueSize);

/// <summary>Source-generated JSON for the items API's own contracts.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(BatchRequest))]
[JsonSerializable(typeof(BatchAccepted))]
[JsonSerializable(typeof(ItemStatus))]
public sealed partial class ItemsApiJsonContext : JsonSerializerContext;
