using System.Text.Json;
using System.Text.Json.Serialization;
using UpstreamApi.Faults;

namespace UpstreamApi.Apis;

/// <summary>Paths of the simulator's two APIs: the one agents call and the one drills use to change its behaviour.</summary>
public static class UpstreamPaths
{
    /// <summary>Agents POST each work item here.</summary>
    public const string Work = "/api/work";

    /// <summary>The control API: <c>GET</c> all faults, <c>PUT|GET|DELETE /faults/{track}</c>, <c>DELETE</c> all.</summary>
    public const string Faults = "/faults";
}

/// <summary>The body of <c>PUT /faults/{track}</c>: both fields optional, 0 when absent.</summary>
public sealed record FaultRequest(int? LatencyMs, double? ErrorRate);

/// <summary>What <c>GET /faults</c> answers: the faults in force by calling track (a track not listed has none).</summary>
public sealed record FaultsView(IReadOnlyDictionary<string, TrackFault> Tracks);

/// <summary>What a successful call answers: who called, and how long the simulator made it take.</summary>
public sealed record WorkAnswer(string Track, int LatencyMs);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(FaultRequest))]
[JsonSerializable(typeof(FaultsView))]
[JsonSerializable(typeof(TrackFault))]
[JsonSerializable(typeof(WorkAnswer))]
internal sealed partial class UpstreamJsonContext : JsonSerializerContext;
