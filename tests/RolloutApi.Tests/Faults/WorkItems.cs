using System.Text.Json;
using System.Text.Json.Serialization;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Faults;

/// <summary>The work the fault tests send the reference agent: <c>POST /api/items</c>, one item per request, each with its own id.</summary>
internal static class WorkItems
{
    public const string Path = "/api/items";

    /// <summary>
    /// Enough distinct words (at least three letters, not stop words) that enriched output lists exactly the number of
    /// keywords its variant asks for, up to 10.
    /// </summary>
    public const string Text = "Canary agents keep serving their flags while the control plane restarts: gateways route, " +
        "agents answer, snapshots persist, rollouts pause, upstream calls stop, keywords count.";

    public static HttpRequestMessage Post(string id) => new(HttpMethod.Post, Path)
    {
        Content = Json.Body(JsonSerializer.Serialize(new { id, kind = "text", payload = new { text = Text } })),
    };
}

/// <summary>
/// An agent's answer to one work item (AgentWorker's <c>WorkResult</c>), as far as the fault tests read it: which
/// behaviour and flag variant served it, whether it called its upstream, and which track says it served it.
/// </summary>
public sealed record AgentAnswer(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("behaviour")] string Behaviour,
    [property: JsonPropertyName("variant")] string? Variant,
    [property: JsonPropertyName("analysis")] AgentAnswer.TextAnalysis Analysis,
    [property: JsonPropertyName("upstream")] AgentAnswer.UpstreamCall? Upstream,
    [property: JsonPropertyName("servedBy")] AgentAnswer.Server ServedBy)
{
    public static AgentAnswer Parse(string body) =>
        JsonSerializer.Deserialize<AgentAnswer>(body, Json.Options) ?? throw new JsonException($"Not an agent answer: {body}");

    /// <summary>Whether the answer shows these flag-gated choices: behaviour, variant, keyword count, and an upstream call or none.</summary>
    public bool Is(string behaviour, string? variant, int keywords, bool calledUpstream) =>
        Behaviour == behaviour && Variant == variant && (Analysis.Keywords?.Count ?? 0) == keywords && (Upstream is not null) == calledUpstream;

    public override string ToString() =>
        $"{ServedBy.Track}: {Behaviour}/{Variant ?? "-"}, {Analysis.Keywords?.Count ?? 0} keywords, upstream {(Upstream is null ? "not called" : Upstream.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture))}";

    public sealed record TextAnalysis([property: JsonPropertyName("keywords")] IReadOnlyList<string>? Keywords);

    public sealed record UpstreamCall([property: JsonPropertyName("statusCode")] int StatusCode);

    public sealed record Server([property: JsonPropertyName("track")] string Track);
}
