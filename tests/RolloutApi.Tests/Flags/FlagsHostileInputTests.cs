using System.Net;
using System.Text;
using System.Text.Json;
using AgentAspire.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.FeatureManagement;
using RolloutApi.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RolloutApi.Tests.Flags;

/// <summary>
/// Hostile input against the flag endpoints: malformed requests are refused with 4xx problems (never a 5xx), refused
/// requests change nothing, and whatever flag document is accepted is one an agent's Microsoft.FeatureManagement parses.
/// </summary>
public sealed class FlagsHostileInputTests(ITestOutputHelper output) : IDisposable
{
    private const int Seed = 20_260_301;
    private const int Mutations = 300;
    private const string AgentPath = FlagsHost.AgentPath;

    private const string Valid = """
        {"feature_management": {"feature_flags": [
          {"id": "EnrichedOutput", "enabled": true, "description": "keywords",
           "conditions": {"requirement_type": "All", "client_filters": [
             {"name": "AgentAspire.Track", "parameters": {"Tracks": ["canary"], "Versions": ["1.1.0"]}},
             {"name": "Microsoft.Percentage", "parameters": {"Value": 50}},
             {"name": "Microsoft.Targeting", "parameters": {"Audience": {"Users": ["ann"], "Groups": [{"Name": "acme", "RolloutPercentage": 20}], "DefaultRolloutPercentage": 5}}}]},
           "variants": [{"name": "k5", "configuration_value": {"keywordCount": 5}}, {"name": "off", "status_override": "Disabled"}],
           "allocation": {"default_when_enabled": "k5", "default_when_disabled": "off", "percentile": [{"variant": "k5", "from": 0, "to": 50}]}},
          {"id": "Other", "enabled": false}]}}
        """;

    private static readonly string[] Fragments =
        ["{", "}", "[", "]", "\"", ":", ",", "null", "true", "-1", "1e400", "\"Microsoft.Unknown\"", "\"\"", "\"x\"", "{}", "[]", "\\u0000", "150"];

    private readonly FlagsHost _host = new();

    public void Dispose() => _host.Dispose();

    [Fact]
    public async Task Hostile_requests_get_4xx_problems_and_accepted_documents_parse_as_agents_parse_them()
    {
        using var client = _host.Operator();
        var random = new Random(Seed);
        var failures = new List<string>();
        var statuses = new Dictionary<int, int>();
        var accepted = 0;

        foreach (var (method, path, body, ifMatch) in FixedCases().Concat(Mutated(random)))
        {
            var auditsBefore = await _host.AuditCountAsync();
            using var response = await client.SendAsync(method, path, body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"), ifMatch);
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var label = $"{method} {path} {(body is null ? "" : body[..Math.Min(80, body.Length)])}";
            if (status >= 500)
            {
                failures.Add($"{label}: {status} {await response.Content.ReadAsStringAsync()}");
            }
            else if (status >= 400)
            {
                if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                {
                    failures.Add($"{label}: {status} without a problem document");
                }

                if (await _host.AuditCountAsync() != auditsBefore)
                {
                    failures.Add($"{label}: refused with {status} but the audit log grew");
                }
            }
            else if (path.EndsWith("/definitions", StringComparison.Ordinal))
            {
                accepted++;
                var snapshot = await ViewerSnapshotAsync();
                try
                {
                    ParseAsAgent(snapshot.FeatureManagement);
                }
                #pragma warning disable CA1031 // whatever the agent's parser throws is the finding this fuzz test records
                catch (Exception e)
                #pragma warning restore CA1031
                {
                    failures.Add($"{label}: accepted, but an agent cannot parse the snapshot: {e.Message}");
                }
            }
        }

        output.WriteLine($"seed {Seed}: {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key} x{s.Value}"))}; {accepted} documents accepted");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        Assert.Equal([400, 404, 412], statuses.Keys.Where(s => s >= 400).Order());
        Assert.True(accepted >= 1);
    }

    private async Task<FlagSnapshot> ViewerSnapshotAsync()
    {
        using var viewer = _host.Viewer();
        return await viewer.SnapshotAsync(Tracks.Stable);
    }

    private static IEnumerable<(HttpMethod, string, string?, string?)> FixedCases()
    {
        var definitions = $"{AgentPath}/flags/definitions";
        yield return (HttpMethod.Put, definitions, Valid, null);
        yield return (HttpMethod.Put, definitions, "{", null);
        yield return (HttpMethod.Put, definitions, "[]", null);
        yield return (HttpMethod.Put, definitions, """{"feature_management": null}""", null);
        yield return (HttpMethod.Put, definitions, """{"reason": "no document"}""", null);
        yield return (HttpMethod.Put, definitions, """{"feature_management": {}, "extra": 1}""", null);
        yield return (HttpMethod.Put, definitions, $$"""{"feature_management": {}, "reason": "{{new string('r', 600)}}"}""", null);
        yield return (HttpMethod.Put, definitions, """{"feature_management": {"feature_flags": [{"id": "A", "conditions": {"client_filters": [{"name": "Microsoft.Targeting", "parameters": {"Audience": {"Groups": [null]}}}]}}]}}""", null);
        yield return (HttpMethod.Put, definitions, """{"feature_management": {"feature_flags": [{"id": "A", "conditions": {"client_filters": [{"name": "Microsoft.Percentage", "parameters": {"Value": 10, "value": 20}}]}}]}}""", null);
        yield return (HttpMethod.Put, definitions, """{"feature_management": {"feature_flags": [{"id": "A", "allocation": {"percentile": [{"variant": "x", "from": 1e400, "to": 5}]}}]}}""", null);
        yield return (HttpMethod.Put, definitions, """{"feature_management": {"feature_flags": [{"id": "A", "conditions": {"client_filters": [{"name": "Microsoft.TimeWindow", "parameters": {"Start": "Mon, 01 Jun 2026 00:00:00 GMT", "Recurrence": {"Pattern": {"Type": "Weekly"}, "Range": {"Type": "NoEnd"}}}}]}}]}}""", null);
        yield return (HttpMethod.Put, definitions, """{"feature_management": {"feature_flags": [{"id": "../../etc", "enabled": true}]}}""", null);
        yield return (HttpMethod.Put, definitions, """{"feature_management": {"feature_flags": []}}""", "W/\"1\"");
        yield return (HttpMethod.Put, definitions, """{"feature_management": {"feature_flags": []}}""", "\"unterminated");
        yield return (HttpMethod.Put, $"{AgentPath}/revisions/0/flags", """{"feature_management": {}}""", null);
        yield return (HttpMethod.Put, $"{AgentPath}/revisions/99999999999/flags", """{"feature_management": {}}""", null);
        yield return (HttpMethod.Post, $"{AgentPath}/flags/a%2F..%2Fb/kill", null, null);
        yield return (HttpMethod.Post, $"{AgentPath}/flags/*/kill", null, null);
        yield return (HttpMethod.Post, $"{AgentPath}/flags/kill?revision=99999999999", null, null);
        yield return (HttpMethod.Post, $"{AgentPath}/flags/kill?revision=-3", null, null);
        yield return (HttpMethod.Post, $"{AgentPath}/flags/kill?track=Stable", null, null);
        yield return (HttpMethod.Post, $"{AgentPath}/flags/kill", """{"track": 5}""", null);
        yield return (HttpMethod.Post, $"{AgentPath}/flags/kill", """{"revision": "3"}""", null);
        yield return (HttpMethod.Delete, $"{AgentPath}/flags/kill", """{"track": "canary", "revision": 1}""", null);
        yield return (HttpMethod.Get, $"{AgentPath}/flags?track=", null, null);
        yield return (HttpMethod.Get, $"/api/agents/{new string('a', 300)}/flags?track=stable", null, null);
        yield return (HttpMethod.Get, $"{AgentPath}/revisions/5/flags", null, null);
    }

    /// <summary>The valid document with a few random fragments spliced in: mostly broken JSON or schema, sometimes still valid.</summary>
    private static IEnumerable<(HttpMethod, string, string?, string?)> Mutated(Random random)
    {
        for (var i = 0; i < Mutations; i++)
        {
            var text = new StringBuilder(Valid);
            for (var edits = random.Next(1, 3); edits > 0; edits--)
            {
                var at = random.Next(text.Length);
                var length = Math.Min(random.Next(0, 6), text.Length - at);
                text.Remove(at, length).Insert(at, Fragments[random.Next(Fragments.Length)]);
            }

            yield return (HttpMethod.Put, $"{AgentPath}/flags/definitions", text.ToString(), null);
        }
    }

    /// <summary>Parses a feature_management object as an agent does: the library's configuration provider, lazy parts materialised.</summary>
    private static void ParseAsAgent(JsonElement featureManagement)
    {
        var json = $$"""{"{{FlagSchema.Section}}": {{featureManagement.GetRawText()}}}""";
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
        using var provider = new ConfigurationFeatureDefinitionProvider(configuration);
        foreach (var definition in provider.GetAllFeatureDefinitionsAsync().ToBlockingEnumerable())
        {
            _ = definition.EnabledFor.ToList();
            _ = definition.Variants.ToList();
            _ = definition.Allocation?.Percentile?.ToList();
        }
    }
}
