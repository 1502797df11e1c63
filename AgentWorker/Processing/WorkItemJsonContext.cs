using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentWorker.Processing;

/// <summary>Source-generated JSON for work items and results (web defaults: camelCase; nulls are written, so every field is always there).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(WorkItemRequest))]
[JsonSerializable(typeof(WorkItem))]
[JsonSerializable(typeof(WorkResult))]
public sealed partial class WorkItemJsonContext : JsonSerializerContext;
