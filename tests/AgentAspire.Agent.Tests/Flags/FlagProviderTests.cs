using AgentAspire.Agent.Flags;
using AgentAspire.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;

namespace AgentAspire.Agent.Tests.Flags;

public sealed class FlagProviderTests
{
    private static readonly Dictionary<string, string?> LocalDefaults = new()
    {
        ["feature_management:feature_flags:0:id"] = "LocalOnly",
        ["feature_management:feature_flags:0:enabled"] = "true",
        ["feature_management:feature_flags:1:id"] = "Shared",
        ["feature_management:feature_flags:1:enabled"] = "true",
    };

    [Fact]
    public async Task Before_any_snapshot_the_local_defaults_are_in_force()
    {
        await using var host = FlagTestHost.Create(LocalDefaults);

        Assert.Equal(FlagSource.Defaults, host.Store.Source);
        Assert.Null(host.Store.Current);
        Assert.True(await host.IsEnabledAsync("LocalOnly"));
        Assert.True(await host.IsEnabledAsync("Shared"));
    }

    [Fact]
    public async Task A_snapshot_replaces_the_defaults_instead_of_merging_with_them_by_index()
    {
        await using var host = FlagTestHost.Create(LocalDefaults);

        // Index 0 of the snapshot lines up with LocalOnly in the defaults: a configuration merge would mix the two.
        var result = host.Store.Apply(Snapshots.Create(1, Snapshots.Flags(("Shared", false))), FlagSource.Remote);

        Assert.Equal(FlagApplyResult.Applied, result);
        Assert.False(await host.IsEnabledAsync("LocalOnly"));
        Assert.False(await host.IsEnabledAsync("Shared"));
        Assert.Equal(["Shared"], await host.Features.GetFeatureNamesAsync().ToListAsync());
    }

    [Fact]
    public async Task A_newer_snapshot_swaps_in_and_an_older_or_equal_one_is_ignored()
    {
        await using var host = FlagTestHost.Create();

        Assert.Equal(FlagApplyResult.Applied, host.Store.Apply(Snapshots.Create(5, Snapshots.Flags(("A", true))), FlagSource.Remote));
        Assert.True(await host.IsEnabledAsync("A"));

        Assert.Equal(FlagApplyResult.Applied, host.Store.Apply(Snapshots.Create(6, Snapshots.Flags(("A", false))), FlagSource.Remote));
        Assert.False(await host.IsEnabledAsync("A"));

        Assert.Equal(FlagApplyResult.Unchanged, host.Store.Apply(Snapshots.Create(4, Snapshots.Flags(("A", true))), FlagSource.Remote));
        Assert.Equal(FlagApplyResult.Unchanged, host.Store.Apply(Snapshots.Create(6, Snapshots.Flags(("A", true))), FlagSource.Remote));
        Assert.False(await host.IsEnabledAsync("A"));
        Assert.Equal(6, host.Store.Current!.Version);
    }

    [Fact]
    public async Task An_authoritative_snapshot_replaces_even_a_newer_one_because_RolloutApi_may_have_been_reset()
    {
        await using var host = FlagTestHost.Create();
        host.Store.Apply(Snapshots.Create(50, Snapshots.Flags(("A", true))), FlagSource.LastKnown);

        var result = host.Store.Apply(Snapshots.Create(3, Snapshots.Flags(("A", false))), FlagSource.Remote, authoritative: true);

        Assert.Equal(FlagApplyResult.Applied, result);
        Assert.False(await host.IsEnabledAsync("A"));
        Assert.Equal(FlagSource.Remote, host.Store.Source);
    }

    [Fact]
    public async Task The_same_version_from_RolloutApi_confirms_last_known_flags_without_a_swap()
    {
        await using var host = FlagTestHost.Create();
        host.Store.Apply(Snapshots.Create(7, Snapshots.Flags(("A", true))), FlagSource.LastKnown);

        var result = host.Store.Apply(Snapshots.Create(7, Snapshots.Flags(("A", true))), FlagSource.Remote, authoritative: true);

        Assert.Equal(FlagApplyResult.Unchanged, result);
        Assert.Equal(FlagSource.Remote, host.Store.Source);
        Assert.True(await host.IsEnabledAsync("A"));
    }

    [Fact]
    public async Task An_unknown_flag_is_off_and_has_no_variant()
    {
        await using var host = FlagTestHost.Create(LocalDefaults);
        Assert.False(await host.IsEnabledAsync("NoSuchFlag"));

        host.Store.Apply(Snapshots.Create(1, Snapshots.Flags(("A", true))), FlagSource.Remote);

        Assert.False(await host.IsEnabledAsync("NoSuchFlag"));
        Assert.Null(await host.Features.GetVariantAsync("NoSuchFlag"));
    }

    [Theory]
    [InlineData("""[]""")]
    [InlineData("""{"feature_flags":{"id":"Kept","enabled":false}}""")]
    [InlineData("""{"feature_flags":[{"id":"Kept","enabled":"maybe"}]}""")]
    [InlineData("""{"feature_flags":[{"id":"Kept","enabled":true,"conditions":{"requirement_type":"Sometimes","client_filters":[{"name":"Microsoft.Percentage","parameters":{"Value":1}}]}}]}""")]
    [InlineData("""{"feature_flags":[{"id":"Kept","enabled":true,"variants":[{"name":"a"}],"allocation":{"percentile":[{"variant":"a","from":"abc","to":100}]}}]}""")]
    [InlineData("""{"feature_flags":[{"id":"Kept","id":"Other","enabled":false}]}""")]
    public async Task A_malformed_snapshot_is_rejected_and_the_flags_in_force_stay(string featureManagement)
    {
        await using var host = FlagTestHost.Create();
        host.Store.Apply(Snapshots.Create(1, Snapshots.Flags(("Kept", true))), FlagSource.Remote);

        var result = host.Store.Apply(Snapshots.Create(2, featureManagement), FlagSource.Remote);

        Assert.Equal(FlagApplyResult.Rejected, result);
        Assert.Equal(1, host.Store.Current!.Version);
        Assert.True(await host.IsEnabledAsync("Kept"));
    }

    [Theory]
    [InlineData(FlagTestHost.Agent, Tracks.Canary)]
    [InlineData("another-agent", Tracks.Stable)]
    public async Task A_snapshot_for_another_agent_or_track_is_rejected(string agent, string track)
    {
        await using var host = FlagTestHost.Create(LocalDefaults);

        var result = host.Store.Apply(Snapshots.Create(1, Snapshots.Flags(("LocalOnly", false)), track, agent), FlagSource.Remote);

        Assert.Equal(FlagApplyResult.Rejected, result);
        Assert.Equal(FlagSource.Defaults, host.Store.Source);
        Assert.True(await host.IsEnabledAsync("LocalOnly"));
    }

    [Theory]
    [InlineData("No.Such.Filter", """{}""", "Any")]
    [InlineData("No.Such.Filter", """{}""", "All")]
    [InlineData(FlagFilterNames.Percentage, """{"Value":"abc"}""", "Any")]
    [InlineData(FlagFilterNames.Targeting, """{"Audience":{"DefaultRolloutPercentage":150}}""", "Any")]
    public async Task A_flag_that_cannot_be_evaluated_is_off_and_evaluation_does_not_throw(string filter, string parameters, string requirement)
    {
        await using var host = FlagTestHost.Create();
        var json = Snapshots.Filtered("Broken", filter, parameters, requirement);
        Assert.Equal(FlagApplyResult.Applied, host.Store.Apply(Snapshots.Create(1, json), FlagSource.Remote));

        Assert.False(await host.IsEnabledAsync("Broken"));
        Assert.False(await host.Services.GetRequiredService<IFeatureManager>().IsEnabledAsync("Broken"));
        Assert.False(await host.Features.IsEnabledAsync("Broken", new TargetingContext { UserId = "u" }));
        Assert.Null(await host.Features.GetVariantAsync("Broken"));
    }

    [Theory]
    [InlineData("""{"Tracks":["canary"]}""", true)]
    [InlineData("""{"Tracks":["stable"]}""", false)]
    [InlineData("""{"Versions":["1.1.0"]}""", true)]
    [InlineData("""{"Versions":["1.0.0"]}""", false)]
    [InlineData("""{"Tracks":["canary"],"Versions":["1.1.0"]}""", true)]
    [InlineData("""{"Tracks":["canary"],"Versions":["1.0.0"]}""", false)]
    [InlineData("""{"Tracks":["CANARY"]}""", true)]
    [InlineData("""{}""", false)]
    public async Task The_track_filter_targets_this_agents_track_and_version(string parameters, bool expected)
    {
        await using var host = FlagTestHost.Create(new Dictionary<string, string?>
        {
            ["Agent:Track"] = Tracks.Canary,
            ["Agent:Version"] = "1.1.0",
        });
        host.Store.Apply(
            Snapshots.Create(1, Snapshots.Filtered("NewPlanner", FlagFilterNames.Track, parameters), Tracks.Canary),
            FlagSource.Remote);

        Assert.Equal(expected, await host.IsEnabledAsync("NewPlanner"));
    }

    [Fact]
    public async Task A_snapshots_version_label_becomes_the_agents_version_and_the_track_filter_follows_it()
    {
        await using var host = FlagTestHost.Create();
        var json = Snapshots.Filtered("NewPlanner", FlagFilterNames.Track, """{"Versions":["2.0.0"]}""");

        host.Store.Apply(Snapshots.Create(1, json, versionLabel: "2.0.0"), FlagSource.Remote);

        Assert.Equal("2.0.0", host.Identity.Version);
        Assert.True(await host.IsEnabledAsync("NewPlanner"));
    }

    [Fact]
    public async Task Tenant_targeting_reads_the_request_headers()
    {
        await using var host = FlagTestHost.Create();
        var json = Snapshots.Filtered(
            "TenantBeta", FlagFilterNames.Targeting,
            """{"Audience":{"Users":["vip"],"Groups":[{"Name":"acme","RolloutPercentage":100}],"DefaultRolloutPercentage":0}}""");
        host.Store.Apply(Snapshots.Create(1, json), FlagSource.Remote);

        Assert.True(await EvaluateForRequestAsync(host, tenant: "acme"));
        Assert.True(await EvaluateForRequestAsync(host, tenant: "globex, acme"));
        Assert.True(await EvaluateForRequestAsync(host, user: "vip"));
        Assert.False(await EvaluateForRequestAsync(host, tenant: "globex"));
        Assert.False(await EvaluateForRequestAsync(host));

        // Outside a request: anonymous, so off, without an exception.
        Assert.False(await host.IsEnabledAsync("TenantBeta"));
    }

    [Fact]
    public async Task Percentage_filter_at_0_and_100_is_deterministic()
    {
        await using var host = FlagTestHost.Create();
        var json = $$$"""
            {"feature_flags":[
              {"id":"Never","enabled":true,"conditions":{"client_filters":[{"name":"{{{FlagFilterNames.Percentage}}}","parameters":{"Value":0}}]}},
              {"id":"Always","enabled":true,"conditions":{"client_filters":[{"name":"{{{FlagFilterNames.Percentage}}}","parameters":{"Value":100}}]}}]}
            """;
        host.Store.Apply(Snapshots.Create(1, json), FlagSource.Remote);

        for (var i = 0; i < 200; i++)
        {
            Assert.False(await host.IsEnabledAsync("Never"));
            Assert.True(await host.IsEnabledAsync("Always"));
        }
    }

    [Fact]
    public async Task Targeting_rollout_percentage_is_sticky_per_user_and_close_to_its_share()
    {
        await using var host = FlagTestHost.Create();
        host.Store.Apply(
            Snapshots.Create(1, Snapshots.Filtered("Half", FlagFilterNames.Targeting, """{"Audience":{"DefaultRolloutPercentage":50}}""")),
            FlagSource.Remote);

        var on = 0;
        for (var i = 0; i < 1000; i++)
        {
            var user = new TargetingContext { UserId = $"user-{i}" };
            var first = await host.Features.IsEnabledAsync("Half", user);
            Assert.Equal(first, await host.Features.IsEnabledAsync("Half", user));
            on += first ? 1 : 0;
        }

        Assert.InRange(on, 420, 580);
    }

    [Fact]
    public async Task Variants_are_allocated_by_user_group_and_percentile_with_their_configuration()
    {
        await using var host = FlagTestHost.Create();
        var json = """
            {"feature_flags":[{
              "id":"Planner","enabled":true,
              "variants":[
                {"name":"control","configuration_value":{"model":"small"}},
                {"name":"treatment","configuration_value":{"model":"large"}},
                {"name":"dark","status_override":"Disabled"}],
              "allocation":{
                "user":[{"variant":"treatment","users":["alice"]},{"variant":"dark","users":["mallory"]}],
                "group":[{"variant":"treatment","groups":["acme"]}],
                "percentile":[{"variant":"control","from":0,"to":100}],
                "default_when_disabled":"control"}},
              {"id":"Off","enabled":false,"variants":[{"name":"control"}],"allocation":{"default_when_disabled":"control"}}]}
            """;
        host.Store.Apply(Snapshots.Create(1, json), FlagSource.Remote);

        var alice = await host.Features.GetVariantAsync("Planner", new TargetingContext { UserId = "alice" });
        var tenant = await host.Features.GetVariantAsync("Planner", new TargetingContext { UserId = "bob", Groups = ["acme"] });
        var other = await host.Features.GetVariantAsync("Planner", new TargetingContext { UserId = "carol" });

        Assert.Equal("treatment", alice.Name);
        Assert.Equal("large", alice.Configuration["model"]);
        Assert.Equal("treatment", tenant.Name);
        Assert.Equal("control", other.Name);
        Assert.Equal("small", other.Configuration["model"]);
        Assert.False(await host.Features.IsEnabledAsync("Planner", new TargetingContext { UserId = "mallory" }));
        Assert.True(await host.Features.IsEnabledAsync("Planner", new TargetingContext { UserId = "carol" }));
        Assert.Equal("control", (await host.Features.GetVariantAsync("Off", new TargetingContext { UserId = "carol" })).Name);
    }

    private static async Task<bool> EvaluateForRequestAsync(FlagTestHost host, string? tenant = null, string? user = null)
    {
        var accessor = host.Services.GetRequiredService<IHttpContextAccessor>();
        var context = new DefaultHttpContext();
        if (tenant is not null)
        {
            context.Request.Headers[FlagTargetingHeaders.Tenant] = tenant;
        }

        if (user is not null)
        {
            context.Request.Headers[FlagTargetingHeaders.User] = user;
        }

        accessor.HttpContext = context;
        try
        {
            return await host.IsEnabledAsync("TenantBeta");
        }
        finally
        {
            accessor.HttpContext = null;
        }
    }
}
