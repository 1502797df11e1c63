using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentAspire.Contracts;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Flags;

/// <summary>Flag documents for requests, and reading flags out of snapshots.</summary>
public static class FlagDocs
{
    public static string Flag(string id, bool enabled = true) =>
        $$"""{"id": "{{id}}", "enabled": {{(enabled ? "true" : "false")}}}""";

    /// <summary>A request body: <c>{"feature_management": {"feature_flags": [...]}}</c>.</summary>
    public static StringContent Set(params string[] flags) =>
        Json.Body($$$"""{"feature_management": {"feature_flags": [{{{string.Join(", ", flags)}}}]}}""");

    public static IReadOnlyList<string> Ids(FlagSnapshot snapshot) =>
        [.. Flags(snapshot).Select(f => f.GetProperty("id").GetString()!)];

    /// <summary>Whether the snapshot turns <paramref name="id"/> on (absent or without "enabled": off, as the schema says).</summary>
    public static bool IsOn(FlagSnapshot snapshot, string id) =>
        Flags(snapshot).Any(f => f.GetProperty("id").GetString() == id && f.TryGetProperty("enabled", out var e) && e.GetBoolean());

    public static IEnumerable<JsonElement> Flags(FlagSnapshot snapshot) =>
        snapshot.FeatureManagement.GetProperty(FlagSchema.FeatureFlags).EnumerateArray();

    public static async Task<FlagSnapshot> SnapshotAsync(this HttpClient client, string track)
    {
        using var response = await client.GetAsync(FlagApiPaths.SnapshotFor(FlagsHost.Agent, track)).WaitAsync(Deadline.Request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var snapshot = (await response.Content.ReadFromJsonAsync<FlagSnapshot>().WaitAsync(Deadline.Request))!;
        Assert.Equal($"\"{snapshot.Version}\"", response.Headers.ETag?.Tag);
        return snapshot;
    }

    public static async Task<HttpResponseMessage> SendAsync(
        this HttpClient client, HttpMethod method, string path, HttpContent? body = null, string? ifMatch = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return await client.SendAsync(request).WaitAsync(Deadline.Request);
    }
}
