using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentAspire.TestSupport;
using AgentWorker.Processing;
using AgentWorker.Telemetry;
using AgentWorker.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AgentWorker.Tests.Apis;

public sealed class MetricsTests
{
    [Fact]
    public async Task Metrics_ExposesTheFourAgentMetrics_ByTheirExactNames_WithIdentityLabels()
    {
        await using var upstream = await Upstream.StartAsync();
        using var factory = new AgentWorkerFactory(
            new Dictionary<string, string?> { ["Worker:UpstreamUrl"] = upstream.Url, ["Worker:Faults:FailureRate"] = "0.5" },
            // The first draw lets an item through, the second fails one: both counters get a sample.
            services => services.AddSingleton<IRandomSource>(new ScriptedRandom(0.9, 0.1)));
        using var client = factory.CreateTestClient();

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/items", Items.Json("ok"))).StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, (await client.PostAsJsonAsync("/api/items", Items.Json("failed"))).StatusCode);

        var labels = Identity(factory);
        var text = "";
        await Deadline.UntilAsync(
            async () =>
            {
                text = await client.GetStringAsync("/metrics");
                return PrometheusText.Find(text, AgentMetrics.ProcessedItems, labels) == 1
                    && PrometheusText.Find(text, AgentMetrics.FailedItems, labels) == 1
                    && PrometheusText.Find(text, AgentMetrics.ApiRequestDuration + "_count", labels) == 1
                    && PrometheusText.Find(text, AgentMetrics.ApiRequestDuration + "_bucket", new Dictionary<string, string>(labels) { ["le"] = "+Inf" }) == 1
                    && PrometheusText.Find(text, AgentMetrics.QueueSize, labels) == 0;
            },
            "/metrics shows every agent metric for this host");

        Assert.Contains("# TYPE agent_processed_items_total counter", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE agent_failed_items_total counter", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE agent_api_request_duration_seconds histogram", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE agent_queue_size gauge", text, StringComparison.Ordinal);
        Assert.DoesNotContain("_total_total", text, StringComparison.Ordinal);
        Assert.DoesNotContain("_seconds_seconds", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_BeforeAnyItem_ShowsBothCountersAtZero_WithIdentityLabels()
    {
        // Prometheus practice: a rate() or an alert on failures needs the series before the first failure.
        using var factory = new AgentWorkerFactory();
        using var client = factory.CreateTestClient();

        var labels = Identity(factory);
        var text = "";
        await Deadline.UntilAsync(
            async () =>
            {
                text = await client.GetStringAsync("/metrics");
                return PrometheusText.Find(text, AgentMetrics.ProcessedItems, labels) == 0
                    && PrometheusText.Find(text, AgentMetrics.FailedItems, labels) == 0
                    && PrometheusText.Find(text, AgentMetrics.QueueSize, labels) == 0;
            },
            "/metrics shows both counters at 0 and the queue gauge before any item");
        Assert.DoesNotContain(AgentMetrics.ApiRequestDuration, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RealUpstream_ReceivesTheNormalisedItem_AndTheCallIsTimedIntoTheHistogram()
    {
        await using var upstream = await Upstream.StartAsync();
        using var factory = new AgentWorkerFactory(new Dictionary<string, string?> { ["Worker:UpstreamUrl"] = upstream.Url });
        using var client = factory.CreateTestClient();

        using var response = await client.PostAsJsonAsync("/api/items", new { id = "up-1", kind = "Text", payload = new { text = " to   the upstream " } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using (var result = JsonDocument.Parse(await response.Content.ReadAsStringAsync()))
        {
            var call = result.RootElement.GetProperty("upstream");
            Assert.Equal(200, call.GetProperty("statusCode").GetInt32());
            Assert.True(call.GetProperty("durationSeconds").GetDouble() > 0);
        }

        using (var received = JsonDocument.Parse(Assert.Single(upstream.Received)))
        {
            Assert.Equal("up-1", received.RootElement.GetProperty("id").GetString());
            Assert.Equal("text", received.RootElement.GetProperty("kind").GetString());
            Assert.Equal("to the upstream", received.RootElement.GetProperty("payload").GetProperty("text").GetString());
        }

        var text = "";
        await Deadline.UntilAsync(
            async () => PrometheusText.Find(text = await client.GetStringAsync("/metrics"), AgentMetrics.ApiRequestDuration + "_count", Identity(factory)) == 1,
            "the histogram counts the one upstream call");
        Assert.True(PrometheusText.Find(text, AgentMetrics.ApiRequestDuration + "_sum", Identity(factory)) > 0);
    }

    private static Dictionary<string, string> Identity(AgentWorkerFactory factory) => new()
    {
        ["agent"] = AgentWorkerFactory.Agent,
        ["track"] = AgentWorkerFactory.Track,
        ["version"] = factory.Version,
    };

    /// <summary>A random source that returns the given draws in order.</summary>
    private sealed class ScriptedRandom(params double[] draws) : IRandomSource
    {
        private int _next;

        public double NextDouble() => draws[Interlocked.Increment(ref _next) - 1];
    }

    /// <summary>A tiny real HTTP upstream on a loopback port chosen by the OS, recording what it receives.</summary>
    private sealed class Upstream : IAsyncDisposable
    {
        private LoopbackServer _server = null!;

        public string Url => $"{_server.Address}work";

        public List<string> Received { get; } = [];

        public static async Task<Upstream> StartAsync()
        {
            var upstream = new Upstream();
            upstream._server = await LoopbackServer.StartAsync(app => app.MapPost("/work", async (HttpRequest request) =>
            {
                using var reader = new StreamReader(request.Body);
                var body = await reader.ReadToEndAsync();
                lock (upstream.Received)
                {
                    upstream.Received.Add(body);
                }

                return Results.Ok();
            }));
            return upstream;
        }

        public ValueTask DisposeAsync() => _server.DisposeAsync();
    }
}
