using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AgentAspire.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RolloutApi.Http;
using RolloutApi.Model;
using RolloutApi.Rollouts.Analysis;
using RolloutApi.Rollouts.Analysis.Judges;
using RolloutApi.Storage;
using RolloutApi.Tests.Infrastructure;
using RolloutApi.Rollouts.Analysis.Sources;

namespace RolloutApi.Tests.Analysis;

/// <summary>
/// The <c>prometheus</c> source against a real Prometheus (Debian's binary) scraping a real exporter over HTTP every
/// second: the exporter serves the agent counters the test sets, so every value asserted went exporter → scrape → TSDB →
/// PromQL. Instant and range queries, templating per track/version/window, bad PromQL, and an unreachable Prometheus
/// (Inconclusive through the real engine, never Fail).
/// </summary>
public sealed class PrometheusSourceTests : IAsyncLifetime
{
    private const string Agent = RolloutApiFactory.Agent;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly RevisionSpecView Stable = new(1, "1.0.0");
    private static readonly RevisionSpecView Canary = new(2, "1.1.0");

    private readonly Dictionary<string, (long Processed, long Failed)> _counters = new()
    {
        ["stable"] = (900, 9),
        ["canary"] = (80, 20),
    };

    private LoopbackServer _exporter = null!;
    private MonitoringProcess _prometheus = null!;
    private EngineHost _host = null!;

    public async Task InitializeAsync()
    {
        _exporter = await LoopbackServer.StartAsync(app => app.MapGet("/metrics", () => Results.Text(Exposition(), "text/plain; version=0.0.4")));
        _prometheus = MonitoringProcess.StartPrometheus($"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: agent
                static_configs:
                  - targets: ['127.0.0.1:{_exporter.Port}']
            """);
        await _prometheus.WaitReadyAsync(Deadline);
        _host = await EngineHost.StartAsync(settings: new Dictionary<string, string?> { [PrometheusSourceOptions.SectionName + ":Url"] = _prometheus.Address.ToString() });
        await WaitForAsync("sum(agent_failed_items_total{track=\"canary\"})", 20);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _prometheus.Dispose();
        await _exporter.DisposeAsync();
    }

    private PrometheusMetricSource Source => _host.Services.GetServices<IMetricSource>().OfType<PrometheusMetricSource>().Single();

    [Fact]
    public async Task Instant_queries_are_templated_per_track_version_and_window_and_without_track_measure_the_whole_agent()
    {
        var perTrack = Metric(
            "sum(agent_failed_items_total{agent=\"{{agent}}\",track=\"{{track}}\",version=\"{{version}}\"}) / " +
            "sum(agent_processed_items_total{agent=\"{{agent}}\",track=\"{{track}}\",version=\"{{version}}\"} + agent_failed_items_total{agent=\"{{agent}}\",track=\"{{track}}\",version=\"{{version}}\"})");
        var sample = await Source.MeasureAsync(perTrack, Context(), CancellationToken.None);
        Assert.Equal(20.0 / 100, sample.Canary.Value!.Value, 6);
        Assert.Equal(9.0 / 909, sample.Stable.Value!.Value, 6);
        Assert.Equal(("1.0.0", "1.1.0"), (sample.Stable.Version, sample.Canary.Version));

        // {{window}} renders as Prometheus' duration ("30s"): the range selector parses and covers the scrapes.
        var windowed = Metric("max_over_time(agent_failed_items_total{agent=\"{{agent}}\",track=\"{{track}}\"}[{{window}}])") with { WindowSeconds = 30 };
        Assert.Contains("[30s]", PrometheusMetricSource.Render(windowed.Query, Context(), "canary", "1.1.0", 30), StringComparison.Ordinal);
        var windowSample = await Source.MeasureAsync(windowed, Context(), CancellationToken.None);
        Assert.Equal((9.0, 20.0), (windowSample.Stable.Value, windowSample.Canary.Value));

        // No {{track}}: one query, the whole agent's value; a vector's samples are summed.
        var agent = await Source.MeasureAsync(Metric("agent_failed_items_total{agent=\"{{agent}}\"}"), Context(), CancellationToken.None);
        Assert.Equal(29.0, agent.Agent.Value);
        Assert.Null(agent.Canary.Value);

        // A selector that matches nothing is "no data", not zero.
        var none = await Source.MeasureAsync(Metric("sum(agent_failed_items_total{agent=\"nobody\",track=\"{{track}}\"})"), Context(), CancellationToken.None);
        Assert.Null(none.Canary.Value);
    }

    [Fact]
    public async Task Range_queries_reduce_the_steps_over_the_window_to_last_avg_max_or_min()
    {
        var before = DateTimeOffset.UtcNow;
        lock (_counters)
        {
            _counters["canary"] = (80, 50);
        }

        await WaitForAsync("sum(agent_failed_items_total{track=\"canary\"})", 50);
        var windowSeconds = (int)Math.Ceiling((DateTimeOffset.UtcNow - before).TotalSeconds) + 5;
        var query = "sum(agent_failed_items_total{agent=\"{{agent}}\",track=\"{{track}}\"})";

        async Task<MetricSample> MeasureAsync(RangeReduce reduce) => await Source.MeasureAsync(
            Metric(query) with { WindowSeconds = windowSeconds, Range = new RangeSpec(1, reduce) }, Context(), CancellationToken.None);

        var last = await MeasureAsync(RangeReduce.Last);
        var max = await MeasureAsync(RangeReduce.Max);
        var min = await MeasureAsync(RangeReduce.Min);
        var avg = await MeasureAsync(RangeReduce.Avg);
        Assert.Equal((50.0, 50.0, 20.0), (last.Canary.Value, max.Canary.Value, min.Canary.Value));
        Assert.InRange(avg.Canary.Value!.Value, 20.0001, 49.9999);
        Assert.Equal((9.0, 9.0, 9.0, 9.0), (last.Stable.Value, max.Stable.Value, min.Stable.Value, avg.Stable.Value));
    }

    [Fact]
    public async Task Bad_promql_is_refused_with_prometheus_own_parse_error()
    {
        var instant = await Assert.ThrowsAsync<InvalidOperationException>(
            () => Source.MeasureAsync(Metric("sum(rate(agent_failed_items_total{track=\"{{track}}\"}[5m]"), Context(), CancellationToken.None));
        Assert.Contains("Prometheus refused the query", instant.Message, StringComparison.Ordinal);
        Assert.Contains("parse error", instant.Message, StringComparison.Ordinal);

        var range = await Assert.ThrowsAsync<InvalidOperationException>(
            () => Source.MeasureAsync(Metric("sum by (track agent_failed_items_total") with { Range = new RangeSpec(1) }, Context(), CancellationToken.None));
        Assert.Contains("parse error", range.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_prometheus_makes_measurements_inconclusive_and_the_rollout_is_held_never_aborted()
    {
        await using var host = await EngineHost.StartAsync(settings: new Dictionary<string, string?>
        {
            [PrometheusSourceOptions.SectionName + ":Url"] = $"http://127.0.0.1:{ClosedPort()}/",
        });
        var template = new AnalysisTemplate(
            [Metric("sum(agent_failed_items_total{agent=\"{{agent}}\",track=\"{{track}}\"})") with { Tolerance = 0 }],
            IntervalSeconds: 5, Count: 1, FailureLimit: 0, InconclusiveLimit: 2, MinSamples: 50);
        Assert.Null((await host.Services.GetRequiredService<AnalysisTemplates>().SaveAsync(Agent, "prom", template, Precondition.None, "tester", CancellationToken.None)).Error);
        var revision = await host.CreateRevisionAsync("2.0.0");
        Assert.Null((await host.Commands.StartAsync(Agent, revision, [RolloutStep.Weight(1_000), RolloutStep.PauseUntilPromoted()], null,
            Precondition.None, "tester", CancellationToken.None, "prom")).Error);

        var status = await host.DriveAsync(s => s.Hold is not null);

        Assert.Equal(RolloutState.Paused, status.State);
        Assert.Equal(1_000, host.RoutedWeight);
        Assert.DoesNotContain(await host.AuditAsync(status.Id), e => e.Action == TransitionActions.Aborted);
        var run = Assert.Single((await host.Services.GetRequiredService<AnalysisRunQueries>().ListAsync(Agent, status.Id, CancellationToken.None))!.Value.Runs);
        Assert.Equal(3, run.Measurements.Count);
        Assert.All(run.Measurements, m =>
        {
            Assert.Equal(AnalysisVerdict.Inconclusive, m.Verdict);
            Assert.StartsWith("Could not measure:", Assert.Single(m.Metrics).Reason, StringComparison.Ordinal);
        });
    }

    private static MetricSpec Metric(string query) =>
        new("failed", PrometheusMetricSource.SourceName, query, ThresholdJudge.JudgeName, Tolerance: 0.05);

    private static MeasurementContext Context()
    {
        var now = DateTimeOffset.UtcNow;
        return new MeasurementContext(Agent, 1, Stable, Canary, 1_000, now - TimeSpan.FromSeconds(20), now);
    }

    private string Exposition()
    {
        var text = new StringBuilder();
        text.Append("# TYPE agent_processed_items_total counter\n# TYPE agent_failed_items_total counter\n");
        lock (_counters)
        {
            foreach (var (track, (processed, failed)) in _counters)
            {
                var labels = $"agent=\"{Agent}\",track=\"{track}\",version=\"{(track == "stable" ? Stable : Canary).Version}\"";
                text.Append(CultureInfo.InvariantCulture, $"agent_processed_items_total{{{labels}}} {processed}\n");
                text.Append(CultureInfo.InvariantCulture, $"agent_failed_items_total{{{labels}}} {failed}\n");
            }
        }

        return text.ToString();
    }

    /// <summary>Polls Prometheus' own API (deadline) until the query's value is <paramref name="expected"/>: the scrape happened.</summary>
    private async Task WaitForAsync(string promql, double expected)
    {
        using var client = new HttpClient { BaseAddress = _prometheus.Address, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        var last = "(nothing)";
        while (clock.Elapsed < Deadline)
        {
            last = await client.GetStringAsync(new Uri($"api/v1/query?query={Uri.EscapeDataString(promql)}", UriKind.Relative));
            var result = JsonDocument.Parse(last).RootElement.GetProperty("data").GetProperty("result");
            if (result.GetArrayLength() == 1 && result[0].GetProperty("value")[1].GetString() == expected.ToString(CultureInfo.InvariantCulture))
            {
                return;
            }

            // Poll interval; the scraped value, not this pause, is what the test waits for.
            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }

        throw new TimeoutException($"Prometheus never showed {promql} = {expected}; last answer {last}\n{_prometheus.Output}");
    }

    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
