using System.Text.Json;
using AgentAspire.Contracts;
using RolloutApi.Flags;
using RolloutApi.Flags.Validation;

namespace RolloutApi.Tests.Flags;

public sealed class FlagDocumentTests
{
    private static readonly DateTimeOffset At = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Agent_definitions_replace_a_revisions_flag_by_id_and_add_their_own()
    {
        var revision = await DocumentAsync("""[{"id": "A", "enabled": true}, {"id": "B", "enabled": true}]""");
        var overrides = await DocumentAsync("""[{"id": "b", "enabled": false, "description": "agent-level"}, {"id": "C", "enabled": true}]""");

        var composed = FlagDocument.Compose(revision, overrides, [], Tracks.Stable, 1);

        Assert.Equal(["A", "b", "C"], composed.Flags.Select(f => f.Id));
        Assert.Equal("agent-level", composed.Flags[1].Definition.GetProperty("description").GetString());
        Assert.Equal("""{"feature_flags":[{"id":"A","enabled":true},{"id":"b","enabled":false,"description":"agent-level"},{"id":"C","enabled":true}]}""", composed.Json);
    }

    [Fact]
    public async Task A_killed_flag_is_disabled_and_keeps_the_rest_of_its_definition()
    {
        var revision = await DocumentAsync("""
            [{"id": "A", "enabled": true, "variants": [{"name": "on"}, {"name": "off"}], "allocation": {"default_when_disabled": "off"}},
             {"id": "B", "conditions": {"client_filters": [{"name": "Microsoft.Percentage", "parameters": {"Value": 50}}]}}]
            """);

        var composed = FlagDocument.Compose(revision, FlagDocument.Empty, [Kill(FlagKill.EveryFlag, FlagScope.Everywhere)], Tracks.Canary, 2);

        var a = composed.Flags[0].Definition;
        Assert.False(a.GetProperty("enabled").GetBoolean());
        Assert.Equal("off", a.GetProperty("allocation").GetProperty("default_when_disabled").GetString());
        Assert.Equal(2, a.GetProperty("variants").GetArrayLength());
        Assert.False(composed.Flags[1].Definition.GetProperty("enabled").GetBoolean());
        Assert.True(composed.Flags[1].Definition.TryGetProperty("conditions", out _));
    }

    [Theory]
    [InlineData("stable", null, "stable", 1, true)]
    [InlineData("stable", null, "canary", 1, false)]
    [InlineData(null, 2, "canary", 2, true)]
    [InlineData(null, 2, "stable", 1, false)]
    [InlineData(null, null, "canary", 2, true)]
    public async Task A_kill_switch_covers_its_scope_only(string? track, int? revision, string servedTrack, int servedRevision, bool killed)
    {
        var document = await DocumentAsync("""[{"id": "EnrichedOutput", "enabled": true}, {"id": "Other", "enabled": true}]""");

        var composed = FlagDocument.Compose(document, FlagDocument.Empty, [Kill("enrichedoutput", new FlagScope(track, revision))], servedTrack, servedRevision);

        Assert.Equal(!killed, composed.Flags[0].Definition.GetProperty("enabled").GetBoolean());
        Assert.True(composed.Flags[1].Definition.GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task A_stored_document_loads_back_the_same()
    {
        var document = await DocumentAsync("""[{"id": "A", "enabled": true, "variants": [{"name": "x", "configuration_value": {"n": 5}}]}]""");

        var loaded = FlagDocument.Load(document.Json);

        Assert.True(loaded.SameAs(document));
        Assert.Equal(document.Json, loaded.Json);
        Assert.True(loaded.Defines("a"));
        Assert.False(loaded.Defines("B"));
    }

    private static FlagKill Kill(string flag, FlagScope scope) => new(flag, scope, At, "tester", "");

    private static async Task<FlagDocument> DocumentAsync(string flags)
    {
        using var json = JsonDocument.Parse($$"""{"feature_flags": {{flags}}}""");
        var (document, errors) = await FlagDocumentValidator.ValidateAsync(json.RootElement, CancellationToken.None);
        Assert.Empty(errors);
        return document!;
    }
}
