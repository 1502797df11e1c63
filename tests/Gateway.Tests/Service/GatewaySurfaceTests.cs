using System.Net.Http.Json;
using System.Net;
using AgentAspire.Contracts;
using AgentAspire.TestSupport;
using Gateway.Apis;
using Gateway.Routing;
using Gateway.Stats;
using Gateway.Stream;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy;
using static Gateway.Tests.Service.GatewayHarness;

namespace Gateway.Tests.Service;

/// <summary>The gateway's own endpoints, its stats and metrics, replicas, passive health and its HttpClient wiring.</summary>
public sealed class GatewaySurfaceTests(GatewayHarness harness) : IClassFixture<GatewayHarness>
{
    private const string MetricsVersion = "9.9.9-metrics";

    [Fact]
    public async Task Stats_count_requests_errors_and_latency_per_track()
    {
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"));
        using var client = Client(factory);

        for (var i = 0; i < 6; i++)
        {
            await SendAsync(client, "/work", forcedTrack: "stable");
        }

        await SendAsync(client, "/status/404", forcedTrack: "stable");
        await SendAsync(client, "/status/503", forcedTrack: "canary");
        await SendAsync(client, "/status/500", forcedTrack: "canary");
        await SendAsync(client, "/work", forcedTrack: "canary");

        var stats = (await client.GetFromJsonAsync<TrafficSummary>($"{GatewayApi.StatsPath}?window=60").WaitAsync(RequestDeadline))!;

        Assert.Equal((7L, new ErrorCounts(1, 0, 0), 0.0), (stats.Stable.Requests, stats.Stable.Errors, stats.Stable.ErrorRate));
        Assert.Equal((3L, new ErrorCounts(0, 2, 0)), (stats.Canary.Requests, stats.Canary.Errors));
        Assert.Equal(0.666667, stats.Canary.ErrorRate);
        Assert.Equal(("1.0.0", "1.1.0", 60), (stats.Stable.Version, stats.Canary.Version, stats.WindowSeconds));
        Assert.NotNull(stats.Stable.LatencyMs.P50);
        Assert.True(stats.Stable.LatencyMs.P99 >= stats.Stable.LatencyMs.P50);
    }

    [Fact]
    public async Task An_unreachable_track_counts_as_transport_errors()
    {
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"),
            ("Gateway:Canary:Destination", $"http://127.0.0.1:{ClosedPort()}"));
        using var client = Client(factory);

        var response = await SendAsync(client, forcedTrack: "canary");
        var stats = (await client.GetFromJsonAsync<TrafficSummary>(GatewayApi.StatsPath).WaitAsync(RequestDeadline))!;

        Assert.Equal(HttpStatusCode.BadGateway, response.Status);
        Assert.Equal(new ErrorCounts(0, 0, 1), stats.Canary.Errors);
        Assert.Equal(1.0, stats.Canary.ErrorRate);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(601)]
    public async Task A_window_out_of_range_is_a_validation_problem(int window)
    {
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"));
        using var client = Client(factory);

        using var response = await client.GetAsync($"{GatewayApi.StatsPath}?window={window}").WaitAsync(RequestDeadline);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_gateways_own_paths_are_not_proxied_and_everything_else_is_with_its_path()
    {
        // No RolloutApi: no first-table wait, so that /health answers 200 (degraded) rather than 503.
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"),
            ("Gateway:FirstTableWait", "00:00:00"));
        using var client = Client(factory);
        var hitsBefore = harness.Stable.Served + harness.Canary.Served;

        using var health = await client.GetAsync("/health").WaitAsync(RequestDeadline);
        using var alive = await client.GetAsync("/alive").WaitAsync(RequestDeadline);
        using var unknown = await client.GetAsync("/gateway/nope").WaitAsync(RequestDeadline);
        var hitsAfterOwn = harness.Stable.Served + harness.Canary.Served;
        var proxied = await SendAsync(client, "/api/items/42?x=1", forcedTrack: "stable");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.NotFound), (health.StatusCode, alive.StatusCode, unknown.StatusCode));
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        Assert.Equal(hitsBefore, hitsAfterOwn);
        Assert.Equal(HttpStatusCode.OK, proxied.Status);
        Assert.Contains("/api/items/42", harness.Stable.Paths);
    }

    [Fact]
    public async Task Per_track_metrics_reach_the_prometheus_endpoint_with_agent_track_and_version()
    {
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"),
            ("Gateway:Canary:Version", MetricsVersion));
        using var client = Client(factory);
        await SendAsync(client, forcedTrack: "canary");
        await SendAsync(client, "/status/500", forcedTrack: "canary");

        var text = await Poll.UntilAsync(
            () => client.GetStringAsync("/metrics"),
            t => t.Contains("gateway_requests_total", StringComparison.Ordinal) && t.Contains("gateway_errors_total", StringComparison.Ordinal),
            "gateway metrics in /metrics");

        // Other gateways in this test process export under the same meter name: this one's version label is unique.
        var lines = text.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("gateway_requests_total{", StringComparison.Ordinal)
            && l.Contains("agent=\"agent-worker\"", StringComparison.Ordinal)
            && l.Contains("track=\"canary\"", StringComparison.Ordinal)
            && l.Contains($"version=\"{MetricsVersion}\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("gateway_errors_total{", StringComparison.Ordinal)
            && l.Contains("status_class=\"5xx\"", StringComparison.Ordinal)
            && l.Contains($"version=\"{MetricsVersion}\"", StringComparison.Ordinal));
        Assert.Contains("gateway_request_duration_seconds_bucket", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replicas_found_by_service_discovery_keep_their_track_and_a_dead_one_is_taken_out_without_a_failed_request()
    {
        // As Aspire injects them for a project with replicas: services__agent-stable__http__0, __1, ...
        var dead = $"http://127.0.0.1:{ClosedPort()}";
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"),
            ("Gateway:Stable:Destination", $"http://{ResourceNames.AgentStable}"),
            ($"services:{ResourceNames.AgentStable}:http:0", harness.Stable.Address.ToString()),
            ($"services:{ResourceNames.AgentStable}:http:1", dead));
        using var client = Client(factory);
        await SendAsync(client); // the first request starts YARP's configuration, including destination resolution

        var lookup = factory.Services.GetRequiredService<IProxyStateLookup>();
        Assert.True(lookup.TryGetCluster(ProxyConfigFactory.ClusterId, out var cluster));
        var stableIds = cluster.Destinations.Values
            .Where(d => TrackDestinations.TrackOf(d) == Track.Stable)
            .Select(d => d.DestinationId).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(2, stableIds.Length);
        Assert.All(stableIds, id => Assert.StartsWith("stable[", id, StringComparison.Ordinal));

        // Passive health: the dead replica fails at transport level and is taken out; meanwhile every request it refused
        // was retried on the live replica (its connection was never established), so no client saw a failure.
        var failures = 0;
        var sent = 0;
        await Poll.UntilAsync(async () =>
        {
            var response = await SendAsync(client);
            sent++;
            failures += response.Status == HttpStatusCode.OK ? 0 : 1;
            return cluster.DestinationsState.AvailableDestinations.Any(d => d.Model.Config.Address.StartsWith(dead, StringComparison.Ordinal));
        }, available => !available, "the dead replica to be taken out");

        Assert.Equal(0, failures);
        Assert.True(sent >= 10, $"taken out after {sent} requests: passive health needs at least 10");
        Assert.Contains(cluster.DestinationsState.AvailableDestinations, d => d.Model.Config.Address.StartsWith(harness.Stable.Address.ToString(), StringComparison.Ordinal));
        var after = await SendAsync(client);
        Assert.Equal(HttpStatusCode.OK, after.Status);
    }

    [Fact]
    public async Task Inline_scheduling_is_off_by_default_and_its_switch_sets_both_kestrel_and_the_runtime_variable()
    {
        var before = Environment.GetEnvironmentVariable(Gateway.Extensions.Extensions.InlineCompletionsVariable);
        try
        {
            Environment.SetEnvironmentVariable(Gateway.Extensions.Extensions.InlineCompletionsVariable, null);
            await using (var standard = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}")))
            {
                Assert.False(standard.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value.UnsafePreferInlineScheduling);
                Assert.Null(Environment.GetEnvironmentVariable(Gateway.Extensions.Extensions.InlineCompletionsVariable));
            }

            await using var inline = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"),
                ("Gateway:InlineScheduling", "true"));
            Assert.True(inline.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value.UnsafePreferInlineScheduling);
            Assert.Equal("1", Environment.GetEnvironmentVariable(Gateway.Extensions.Extensions.InlineCompletionsVariable));
            using var client = Client(inline);
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(client)).Status);
        }
        finally
        {
            Environment.SetEnvironmentVariable(Gateway.Extensions.Extensions.InlineCompletionsVariable, before);
        }
    }

    [Fact]
    public async Task Kestrel_keeps_its_socket_defaults_and_takes_its_socket_settings_from_the_gateway_sockets_section()
    {
        await using (var standard = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}")))
        {
            var defaults = standard.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value;
            var kestrel = new SocketTransportOptions();
            Assert.Equal(kestrel.IOQueueCount, defaults.IOQueueCount);
            Assert.Equal(kestrel.WaitForDataBeforeAllocatingBuffer, defaults.WaitForDataBeforeAllocatingBuffer);
        }

        await using var tuned = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"),
            ("Gateway:Sockets:IOQueueCount", "0"), ("Gateway:Sockets:WaitForDataBeforeAllocatingBuffer", "false"));
        var options = tuned.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value;
        Assert.Equal(0, options.IOQueueCount);
        Assert.False(options.WaitForDataBeforeAllocatingBuffer);
        using var client = Client(tuned);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(client)).Status);
    }

    [Fact]
    public async Task The_routing_stream_client_has_no_resilience_handler_and_no_timeout()
    {
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"));
        using var defaults = factory.Services.GetRequiredService<IHttpClientFactory>().CreateClient();
        using var stream = factory.Services.GetRequiredService<IHttpClientFactory>().CreateClient(RoutingStreamClient.HttpClientName);

        var streamChain = HandlerChain(factory.Services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(RoutingStreamClient.HttpClientName));
        var defaultChain = HandlerChain(factory.Services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(Microsoft.Extensions.Options.Options.DefaultName));

        Assert.Contains(defaultChain, name => name.Contains("Resilience", StringComparison.Ordinal)); // the control: ServiceDefaults adds it
        Assert.DoesNotContain(streamChain, name => name.Contains("Resilience", StringComparison.Ordinal));
        Assert.Equal(Timeout.InfiniteTimeSpan, stream.Timeout);
    }

    private static List<string> HandlerChain(HttpMessageHandler handler)
    {
        var names = new List<string>();
        for (var current = handler; current is not null; current = (current as DelegatingHandler)?.InnerHandler)
        {
            names.Add(current.GetType().Name);
        }

        return names;
    }
}
