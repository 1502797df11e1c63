using System.Collections.Concurrent;
using System.Diagnostics;
using AgentAspire.Contracts;
using Gateway.Stats;
using Gateway.Tests.Support;
using static Gateway.Tests.Service.GatewayHarness;

namespace Gateway.Tests.Service;

/// <summary>
/// Alone, because ActivityListeners and MeterListeners are process-wide: another gateway running beside these tests
/// would sample with its own ratio and enable instruments these tests expect dropped.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GatewayTelemetryCollection
{
    public const string Name = "gateway telemetry";
}

/// <summary>
/// The gateway's per-request telemetry switches, asserted on what the other side sees: the trace context the agent
/// received, and what a Prometheus scrape shows.
/// </summary>
[Collection(GatewayTelemetryCollection.Name)]
public sealed class GatewayTelemetryTests(GatewayHarness harness) : IClassFixture<GatewayHarness>
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

    [Fact]
    public async Task Unsampled_root_requests_still_carry_a_trace_context_to_the_agent()
    {
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"),
            ("Gateway:Telemetry:TraceSampleRatio", "0"));
        using var client = Client(factory);
        harness.Stable.TraceParents.Clear();

        for (var i = 0; i < 20; i++)
        {
            await SendAsync(client, forcedTrack: "stable");
        }

        // Each request reached the agent with a context of its own, marked not sampled: the agent records nothing.
        var seen = harness.Stable.TraceParents.ToArray();
        Assert.Equal(20, seen.Length);
        Assert.All(seen, p => Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-00$", p));
        Assert.Equal(20, seen.Select(p => p[3..35]).Distinct().Count());
    }

    [Theory]
    [InlineData("0", "01", "false")]
    [InlineData("1", "00", "false")]
    [InlineData("0", "01", "true")]
    [InlineData("1", "00", "true")]
    public async Task A_callers_sampling_decision_is_followed_and_its_trace_continues_at_the_agent(string ratio, string callerFlags, string clientSpans)
    {
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"),
            ("Gateway:Telemetry:TraceSampleRatio", ratio), ("Gateway:Telemetry:ClientSpans", clientSpans));
        using var client = Client(factory);
        harness.Stable.TraceParents.Clear();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/work");
        request.Headers.Add("traceparent", $"00-{TraceId}-00f067aa0ba902b7-{callerFlags}");
        request.Headers.Add(AgentAspire.Contracts.AgentHeaders.Track, "stable");
        using var response = await client.SendAsync(request).WaitAsync(RequestDeadline);

        var seen = Assert.Single(harness.Stable.TraceParents);
        Assert.Matches($"^00-{TraceId}-[0-9a-f]{{16}}-{callerFlags}$", seen);
        Assert.DoesNotContain("00f067aa0ba902b7", seen, StringComparison.Ordinal); // the gateway's own span sits between
    }

    [Fact]
    public async Task Root_requests_are_recorded_at_the_ratio_once_not_twice()
    {
        // The gateway draws a root request at the ratio before it starts a span; OpenTelemetry's sampler must not draw
        // again (that would record ratio² of them). What counts is the flag the agent received.
        await using var factory = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"),
            ("Gateway:Telemetry:TraceSampleRatio", "0.5"));
        using var client = Client(factory);
        harness.Stable.TraceParents.Clear();

        const int Requests = 400;
        for (var i = 0; i < Requests; i++)
        {
            await SendAsync(client, forcedTrack: "stable");
        }

        var seen = harness.Stable.TraceParents.ToArray();
        Assert.Equal(Requests, seen.Length);
        Assert.All(seen, p => Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", p));
        var sampled = seen.Count(p => p.EndsWith("-01", StringComparison.Ordinal));
        // Binomial(400, 0.5): sd 10, so 160..240 is ±4 sd; recording ratio² (0.25) would give about 100.
        Assert.InRange(sampled, 160, 240);
    }

    [Fact]
    public async Task A_recorded_request_has_one_server_span_naming_the_track_and_an_unrecorded_one_has_none()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ServerSpans.SourceName,
            // Observe only: the gateway's own sampler decides whether a span is recorded.
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        await using (var none = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"),
            ("Gateway:Telemetry:TraceSampleRatio", "0")))
        {
            using var client = Client(none);
            for (var i = 0; i < 10; i++)
            {
                await SendAsync(client, forcedTrack: "canary");
            }
        }

        Assert.Empty(spans);

        await using var all = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"),
            ("Gateway:Telemetry:TraceSampleRatio", "1"));
        using var allClient = Client(all);
        harness.Canary.TraceParents.Clear();
        var answer = await SendAsync(allClient, forcedTrack: "canary");

        var span = Assert.Single(spans);
        Assert.True(span.Recorded);
        Assert.Equal(ActivityKind.Server, span.Kind);
        Assert.Equal(answer.AgentTrack, span.GetTagItem(AgentTelemetryNames.TrackAttribute));
        Assert.Equal("1.1.0", span.GetTagItem(AgentTelemetryNames.VersionAttribute));
        Assert.Equal(200, span.GetTagItem("http.response.status_code"));
        Assert.Equal("GET", span.GetTagItem("http.request.method"));
        // The agent's parent is this span: same trace, this span's id, sampled.
        Assert.Equal($"00-{span.TraceId}-{span.SpanId}-01", Assert.Single(harness.Canary.TraceParents));
    }

    [Fact]
    public async Task Framework_per_request_metrics_are_dropped_unless_switched_on_and_the_per_track_ones_stay()
    {
        await using (var lean = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}")))
        {
            using var client = Client(lean);
            await SendAsync(client, forcedTrack: "canary");
            var text = await Poll.UntilAsync(() => client.GetStringAsync("/metrics"),
                t => t.Contains("gateway_requests_total", StringComparison.Ordinal), "per-track metrics in /metrics");

            foreach (var instrument in GatewayTelemetry.PerRequestFrameworkInstruments)
            {
                Assert.DoesNotContain(instrument.Replace('.', '_'), text, StringComparison.Ordinal);
            }

        }

        await using var full = GatewayFactory.Create(harness.Stable, harness.Canary, new Uri($"http://127.0.0.1:{ClosedPort()}"),
            ("Gateway:Telemetry:FrameworkRequestMetrics", "true"));
        using var fullClient = Client(full);
        await SendAsync(fullClient, forcedTrack: "canary");
        await Poll.UntilAsync(() => fullClient.GetStringAsync("/metrics"),
            t => t.Contains("http_server_request_duration", StringComparison.Ordinal)
                && t.Contains("http_client_request_duration", StringComparison.Ordinal),
            "ASP.NET Core and HttpClient request metrics in /metrics once switched on");
    }
}
