using AgentAspire.Agent.Flags;
using AgentAspire.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;

namespace AgentAspire.Agent.Tests.Flags;

public sealed class FlagWiringTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_agents_own_AddFeatureManagement_call_does_not_displace_the_remote_flags(bool agentCallsFirst)
    {
        await using var host = FlagTestHost.Create(
            new Dictionary<string, string?>
            {
                ["feature_management:feature_flags:0:id"] = "LocalOnly",
                ["feature_management:feature_flags:0:enabled"] = "true",
            },
            before: b => { if (agentCallsFirst) { b.Services.AddFeatureManagement(); } },
            after: b => { if (!agentCallsFirst) { b.Services.AddFeatureManagement().WithTargeting<HeaderTargetingContextAccessor>(); } });
        var json = $$$"""
            {"feature_flags":[
              {"id":"Always","enabled":true,"conditions":{"client_filters":[{"name":"{{{FlagFilterNames.Percentage}}}","parameters":{"Value":100}}]}},
              {"id":"Windowed","enabled":true,"conditions":{"client_filters":[{"name":"{{{FlagFilterNames.TimeWindow}}}","parameters":{"Start":"Mon, 01 Jan 2024 00:00:00 GMT"}}]}},
              {"id":"Broken","enabled":true,"conditions":{"client_filters":[{"name":"No.Such.Filter"}]}}]}
            """;

        host.Store.Apply(Snapshots.Create(1, json), FlagSource.Remote);

        Assert.True(await host.IsEnabledAsync("Always"));

        // The library registers TimeWindowFilter again on each AddFeatureManagement(); it must still be unambiguous.
        Assert.True(await host.IsEnabledAsync("Windowed"));
        Assert.False(await host.IsEnabledAsync("LocalOnly"));
        Assert.False(await host.Services.GetRequiredService<IFeatureManager>().IsEnabledAsync("Broken"));
        await using (var scope = host.Services.CreateAsyncScope())
        {
            // Per-request snapshots wrap the same guarded manager.
            var perRequest = scope.ServiceProvider.GetRequiredService<IVariantFeatureManagerSnapshot>();
            Assert.True(await perRequest.IsEnabledAsync("Always"));
            Assert.False(await perRequest.IsEnabledAsync("Broken"));
        }

        var filterTypes = host.Services.GetServices<IFeatureFilterMetadata>().Select(f => f.GetType()).ToList();
        Assert.Contains(typeof(TrackFilter), filterTypes);
        Assert.Contains(typeof(TargetingFilter), filterTypes);
    }

    [Fact]
    public async Task Calling_AddRemoteFeatureFlags_twice_registers_everything_once()
    {
        await using var host = FlagTestHost.Create(after: b => b.AddRemoteFeatureFlags());

        Assert.Single(host.Services.GetServices<IHostedService>().OfType<FlagStreamClient>());
        Assert.Single(host.Services.GetRequiredService<IOptions<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckServiceOptions>>()
            .Value.Registrations, r => r.Name == FlagReadinessHealthCheck.Name);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_stream_client_has_no_resilience_handler_and_no_timeout_though_other_clients_keep_theirs(bool defaultsFirst)
    {
        // As ServiceDefaults does for every client, whether AddServiceDefaults runs before or after AddRemoteFeatureFlags.
        void Defaults(HostApplicationBuilder b)
        {
            b.Services.ConfigureHttpClientDefaults(http => http.AddStandardResilienceHandler());
            b.Services.AddHttpClient("other");
        }

        await using var host = defaultsFirst ? FlagTestHost.Create(before: Defaults) : FlagTestHost.Create(after: Defaults);
        var handlers = host.Services.GetRequiredService<IHttpMessageHandlerFactory>();

        Assert.DoesNotContain(HandlerChain(handlers.CreateHandler(FlagStreamClient.HttpClientName)), IsResilienceHandler);
        Assert.Contains(HandlerChain(handlers.CreateHandler("other")), IsResilienceHandler);
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient(FlagStreamClient.HttpClientName);
        Assert.Equal(Timeout.InfiniteTimeSpan, client.Timeout);
        Assert.Equal(new Uri("http://127.0.0.1:1"), client.BaseAddress);
    }

    [Theory]
    [InlineData("Flags:RolloutApi", "not a url")]
    [InlineData("Flags:RolloutApi", "ftp://rollout-api")]
    [InlineData("Flags:ReadyTimeout", "00:00:00")]
    [InlineData("Flags:ReconnectDelay", "00:01:00")]
    [InlineData("Flags:IdleTimeout", "-00:00:01")]
    public async Task Invalid_flag_options_stop_the_agent_at_start(string key, string value)
    {
        await using var host = FlagTestHost.Create(new Dictionary<string, string?> { [key] = value });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(host.StartAsync);

        Assert.Contains(key.Split(':')[1], error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_targeting_context_comes_from_the_user_and_tenant_headers()
    {
        var headers = new HeaderDictionary
        {
            [FlagTargetingHeaders.User] = " alice ",
            [FlagTargetingHeaders.Tenant] = new(["acme, globex", "initech"]),
        };

        var context = HeaderTargetingContextAccessor.FromHeaders(headers);

        Assert.Equal("alice", context.UserId);
        Assert.Equal(["acme", "globex", "initech"], context.Groups);
        Assert.Null(HeaderTargetingContextAccessor.FromHeaders(new HeaderDictionary()).UserId);
    }

    [Fact]
    public void The_contract_paths_escape_agent_and_track()
    {
        Assert.Equal("/api/agents/agent-worker/flags/stream?track=canary", FlagApiPaths.StreamFor("agent-worker", Tracks.Canary));
        Assert.Equal("/api/agents/a%20b/flags?track=stable", FlagApiPaths.SnapshotFor("a b", Tracks.Stable));
    }

    private static bool IsResilienceHandler(HttpMessageHandler handler) =>
        handler.GetType().FullName!.Contains("Resilience", StringComparison.Ordinal);

    private static IEnumerable<HttpMessageHandler> HandlerChain(HttpMessageHandler handler)
    {
        for (HttpMessageHandler? current = handler; current is not null; current = (current as DelegatingHandler)?.InnerHandler)
        {
            yield return current;
        }
    }
}
