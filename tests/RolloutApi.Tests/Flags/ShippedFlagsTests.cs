using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Flags;

/// <summary>
/// The flags an agent ships (<c>Agents:{agent}:Flags</c>) are its definitions from the first start, once. An invalid
/// set stops the start: ConfigurationValidationTests.
/// </summary>
public sealed class ShippedFlagsTests
{
    private const string Shipped = """{"feature_flags":[{"id":"EnrichedOutput","enabled":false},{"id":"UpstreamCalls","enabled":true}]}""";
    private const string AgentPath = $"/api/agents/{RolloutApiFactory.Agent}";

    [Fact]
    public async Task A_new_agent_starts_with_the_flags_it_ships_and_their_kill_switches_work()
    {
        using var factory = new RolloutApiFactory(settings: new Dictionary<string, string?> { [$"Agents:{RolloutApiFactory.Agent}:Flags"] = Shipped });
        using var client = Operator(factory);

        using var snapshot = JsonDocument.Parse(await client.GetStringAsync($"{AgentPath}/flags?track=canary"));
        var ids = snapshot.RootElement.GetProperty("feature_management").GetProperty("feature_flags").EnumerateArray()
            .Select(f => f.GetProperty("id").GetString()).ToList();
        Assert.Equal(["EnrichedOutput", "UpstreamCalls"], ids);

        // The README's kill switch answered 404 "Flag not found" when no flag was defined.
        using var kill = await client.PostAsJsonAsync($"{AgentPath}/flags/EnrichedOutput/kill", new { track = "canary" });
        Assert.Equal(HttpStatusCode.OK, kill.StatusCode);
    }

    [Fact]
    public async Task A_restart_keeps_the_definitions_operators_set_instead_of_the_shipped_ones()
    {
        var directory = Directory.CreateTempSubdirectory("agentaspire-shipped-flags-").FullName;
        var settings = new Dictionary<string, string?>
        {
            [$"Agents:{RolloutApiFactory.Agent}:Flags"] = Shipped,
            ["RolloutApi:DatabasePath"] = Path.Combine(directory, "rollout-api.db"),
        };
        using (var first = new RolloutApiFactory(settings: settings))
        {
            using var client = Operator(first);
            using var put = await client.PutAsJsonAsync($"{AgentPath}/flags/definitions",
                new { feature_management = new { feature_flags = new[] { new { id = "Planner", enabled = true } } } });
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        using var second = new RolloutApiFactory(settings: settings);
        using var again = Operator(second);
        using var definitions = JsonDocument.Parse(await again.GetStringAsync($"{AgentPath}/flags/definitions"));
        Assert.Contains("Planner", definitions.RootElement.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("UpstreamCalls", definitions.RootElement.GetRawText(), StringComparison.Ordinal);
        TestPaths.TryDelete(directory);
    }

    private static HttpClient Operator(RolloutApiFactory factory)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", RolloutApiFactory.OperatorKey);
        return client;
    }
}
