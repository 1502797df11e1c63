using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentAspire.Contracts;
using AgentAspire.TestSupport;

namespace AppHost.Tests.WholeApp;

/// <summary>
/// Rollback drills through the real gateway and agents, judged by background analysis alone: a canary whose flag set makes
/// it fail 20 % of its items at 10 % weight is aborted with no human step; a healthy one goes 1 % → 100 % and is promoted;
/// a latency-only regression (+200 ms) is caught by the latency test; with no traffic the analysis is inconclusive and
/// the rollout holds, then pauses, and is never aborted. What failed is read from the agents' own counters.
/// </summary>
[Collection(WholeAppCollection.Name)]
public sealed class AnalysisDrillTests(AppFixture fixture)
{
    private static readonly string AgentPath = $"/api/agents/{ResourceNames.DefaultAgent}";
    private static readonly TimeSpan DrillDeadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_canary_failing_20_percent_at_10_percent_weight_is_aborted_by_background_analysis_alone()
    {
        using var api = fixture.CreateOperatorClient();
        using var gateway = fixture.CreateGatewayClient();
        var revision = await CreateRevisionAsync(api, "1.3.0-faulty", new { failureRate = 0.2 });
        var canaryFailedBefore = await AgentCounterAsync(ResourceNames.AgentCanary, "agent_failed_items");
        var stableFailedBefore = await AgentCounterAsync(ResourceNames.AgentStable, "agent_failed_items");

        using var load = new Load(gateway, clients: 4);
        try
        {
            var started = await SendAsync(api, HttpMethod.Post, $"{AgentPath}/rollouts", new
            {
                revision,
                steps = new object[] { new { setWeight = 1_000 }, new { pause = new { } } },
                analysis = new { template = "default" },
                reason = "rollback drill",
            });
            var rolloutId = started.GetProperty("id").GetInt64();
            await RoutingTests.WaitForGatewayWeightAsync(gateway, 1_000);
            var weightAppliedAt = Stopwatch.StartNew();

            var rollout = await WaitForRolloutAsync(api, Decided, "the analysis to decide");
            var decidedAfter = weightAppliedAt.Elapsed;

            Assert.Equal("Aborted", rollout.GetProperty("state").GetString());
            Assert.Equal(0, rollout.GetProperty("weight").GetInt32());
            await RoutingTests.WaitForGatewayWeightAsync(gateway, 0);

            var audit = await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/audit?rolloutId={rolloutId}").WaitAsync(AppFixture.RequestDeadline);
            var abort = audit.EnumerateArray().First(e => e.GetProperty("action").GetString() == "Aborted");
            Assert.Equal("system:reconciler", abort.GetProperty("actor").GetString());
            Assert.Contains("Background analysis (default) Fail", abort.GetProperty("reason").GetString(), StringComparison.Ordinal);

            var runs = await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/rollouts/{rolloutId}/analysis-runs").WaitAsync(AppFixture.RequestDeadline);
            var run = runs.GetProperty("runs").EnumerateArray().Single(r => r.GetProperty("kind").GetString() == "Background");
            Assert.Equal("Fail", run.GetProperty("state").GetString());
            var last = run.GetProperty("measurements").EnumerateArray().Last();
            Assert.Equal("Fail", last.GetProperty("verdict").GetString());
            var failedMetric = last.GetProperty("metrics").EnumerateArray().First(m => m.GetProperty("verdict").GetString() == "Fail");
            var canarySample = failedMetric.GetProperty("sample").GetProperty("canary");
            Assert.True(canarySample.GetProperty("errors").GetInt64() > 0, failedMetric.ToString());
            Assert.Equal("1.3.0-faulty", canarySample.GetProperty("version").GetString());

            // The agents' own counters: the canary failed items, the stable track did not.
            Assert.True(await AgentCounterAsync(ResourceNames.AgentCanary, "agent_failed_items") > canaryFailedBefore);
            Assert.Equal(stableFailedBefore, await AgentCounterAsync(ResourceNames.AgentStable, "agent_failed_items"));
            Assert.True(decidedAfter < TimeSpan.FromSeconds(30), $"The abort took {decidedAfter.TotalSeconds:0.#} s after the weight took effect.");
        }
        finally
        {
            await load.StopAsync();
            await CleanupAsync(api);
        }
    }

    [Fact]
    public async Task A_healthy_revision_goes_from_1_to_100_percent_and_is_promoted_on_analysis_alone()
    {
        using var api = fixture.CreateOperatorClient();
        using var gateway = fixture.CreateGatewayClient();
        var revision = await CreateRevisionAsync(api, "1.1.0", flags: null);
        await SendAsync(api, HttpMethod.Put, $"{AgentPath}/analysis-templates/drill-healthy", new
        {
            intervalSeconds = 1,
            inconclusiveLimit = 60,
            minSamples = 5,
            metrics = new object[]
            {
                new { name = "errors", source = "gateway", query = "errors", judge = "sequential", alpha = 0.01 },
                new { name = "failed-ratio", source = "gateway", query = "error-rate", judge = "threshold", comparison = "difference", tolerance = 0.05 },
                new { name = "latency", source = "gateway", query = "latency", judge = "sequential", alpha = 0.01, tolerance = 0.5, threshold = 50 },
            },
        });
        var canaryProcessedBefore = await AgentCounterAsync(ResourceNames.AgentCanary, "agent_processed_items");

        using var load = new Load(gateway, clients: 4);
        try
        {
            var steps = new[] { 100, 1_000, 5_000, 10_000 }
                .SelectMany(w => new object[] { new { setWeight = w }, new { pause = new { durationSeconds = 1 } } }).ToArray();
            var started = await SendAsync(api, HttpMethod.Post, $"{AgentPath}/rollouts",
                new { revision, steps, analysis = new { template = "drill-healthy" }, reason = "healthy drill" });
            var rolloutId = started.GetProperty("id").GetInt64();

            var rollout = await WaitForRolloutAsync(api, Decided, "promotion on analysis alone");

            Assert.Equal("Promoted", rollout.GetProperty("state").GetString());
            var audit = await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/audit?rolloutId={rolloutId}").WaitAsync(AppFixture.RequestDeadline);
            Assert.All(audit.EnumerateArray().Where(e => e.GetProperty("action").GetString() != "RolloutStarted"),
                e => Assert.Equal("system:reconciler", e.GetProperty("actor").GetString()));
            var runs = await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/rollouts/{rolloutId}/analysis-runs").WaitAsync(AppFixture.RequestDeadline);
            var run = runs.GetProperty("runs").EnumerateArray().Single();
            Assert.Equal("Cancelled", run.GetProperty("state").GetString()); // ended by the promotion, never failed
            var weights = run.GetProperty("measurements").EnumerateArray()
                .Where(m => m.GetProperty("verdict").GetString() == "Pass").Select(m => m.GetProperty("weight").GetInt32()).Distinct().ToList();
            Assert.Equal([100, 1_000, 5_000], weights); // every step below 100 % passed on data before it moved on
            Assert.DoesNotContain(run.GetProperty("measurements").EnumerateArray(), m => m.GetProperty("verdict").GetString() == "Fail");
            Assert.True(await AgentCounterAsync(ResourceNames.AgentCanary, "agent_processed_items") > canaryProcessedBefore);
        }
        finally
        {
            await load.StopAsync();
            // Put the original stable revision back for the other tests.
            using var undo = await api.PostAsJsonAsync($"{AgentPath}/undo", new { reason = "drill cleanup" });
        }
    }

    [Fact]
    public async Task A_latency_only_regression_of_200_ms_is_caught_by_the_latency_test()
    {
        using var api = fixture.CreateOperatorClient();
        using var gateway = fixture.CreateGatewayClient();
        var revision = await CreateRevisionAsync(api, "1.4.0-slow", new { latencyMs = 200 });
        await SendAsync(api, HttpMethod.Put, $"{AgentPath}/analysis-templates/drill-latency", new
        {
            intervalSeconds = 1,
            inconclusiveLimit = 60,
            minSamples = 20,
            metrics = new object[]
            {
                new { name = "errors", source = "gateway", query = "errors", judge = "sequential", alpha = 0.01 },
                new { name = "latency", source = "gateway", query = "latency", judge = "sequential", alpha = 0.01, tolerance = 0.2, threshold = 50 },
            },
        });

        using var load = new Load(gateway, clients: 4);
        try
        {
            var started = await SendAsync(api, HttpMethod.Post, $"{AgentPath}/rollouts", new
            {
                revision,
                steps = new object[] { new { setWeight = 1_000 }, new { pause = new { } } },
                analysis = new { template = "drill-latency" },
            });
            var rolloutId = started.GetProperty("id").GetInt64();

            var rollout = await WaitForRolloutAsync(api, Decided, "the latency test to decide");

            Assert.Equal("Aborted", rollout.GetProperty("state").GetString());
            var runs = await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/rollouts/{rolloutId}/analysis-runs").WaitAsync(AppFixture.RequestDeadline);
            var last = runs.GetProperty("runs").EnumerateArray().Single().GetProperty("measurements").EnumerateArray().Last();
            var metrics = last.GetProperty("metrics").EnumerateArray().ToDictionary(m => m.GetProperty("metric").GetString()!);
            Assert.Equal("Fail", metrics["latency"].GetProperty("verdict").GetString());
            Assert.Equal("Pass", metrics["errors"].GetProperty("verdict").GetString()); // a latency-only regression: no errors
            Assert.Equal(0, (await RoutingTests.GetAppliedRoutingAsync(gateway)).GetProperty("weight").GetInt32());
        }
        finally
        {
            await load.StopAsync();
            await CleanupAsync(api);
        }
    }

    [Fact]
    public async Task With_no_traffic_the_analysis_is_inconclusive_the_rollout_holds_and_is_never_aborted()
    {
        using var api = fixture.CreateOperatorClient();
        var revision = await CreateRevisionAsync(api, "1.1.0", flags: null);
        await SendAsync(api, HttpMethod.Put, $"{AgentPath}/analysis-templates/drill-quick", new
        {
            intervalSeconds = 1,
            inconclusiveLimit = 3,
            minSamples = 20,
            metrics = new object[]
            {
                new { name = "errors", source = "gateway", query = "errors", judge = "sequential", alpha = 0.01 },
            },
        });
        try
        {
            var started = await SendAsync(api, HttpMethod.Post, $"{AgentPath}/rollouts", new
            {
                revision,
                steps = new object[] { new { setWeight = 1_000 }, new { pause = new { durationSeconds = 1 } }, new { setWeight = 5_000 } },
                analysis = new { template = "drill-quick" },
            });
            var rolloutId = started.GetProperty("id").GetInt64();

            var rollout = await WaitForRolloutAsync(api, Decided, "the analysis to hold the rollout");

            Assert.Equal("Paused", rollout.GetProperty("state").GetString());
            Assert.Equal("Inconclusive", rollout.GetProperty("hold").GetString());
            Assert.Equal(1_000, rollout.GetProperty("weight").GetInt32()); // the 1 s pause ended long ago; no data, no next step
            var runs = await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/rollouts/{rolloutId}/analysis-runs").WaitAsync(AppFixture.RequestDeadline);
            var run = runs.GetProperty("runs").EnumerateArray().Single();
            Assert.Equal("Inconclusive", run.GetProperty("state").GetString());
            Assert.All(run.GetProperty("measurements").EnumerateArray(), m => Assert.Equal("Inconclusive", m.GetProperty("verdict").GetString()));
            var audit = await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/audit?rolloutId={rolloutId}").WaitAsync(AppFixture.RequestDeadline);
            Assert.DoesNotContain(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "Aborted");
        }
        finally
        {
            await CleanupAsync(api);
        }
    }

    /// <summary>
    /// The opt-in Prometheus (the fixture runs the AppHost with <c>--AgentAspire:Prometheus=true</c>) scrapes the agents
    /// through their Aspire endpoints, and a template whose only metric is PromQL (the README's failed-ratio query) aborts
    /// a 20 %-failing canary at 10 % weight: the verdict's numbers are what Prometheus answered.
    /// </summary>
    [Fact]
    public async Task A_promql_template_on_the_opt_in_prometheus_aborts_a_canary_failing_20_percent()
    {
        using var api = fixture.CreateOperatorClient();
        using var gateway = fixture.CreateGatewayClient();
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.Prometheus).WaitAsync(DrillDeadline);
        using var prometheus = fixture.App.CreateHttpClient(ResourceNames.Prometheus, "http");
        // Every service's /metrics is a target, and each is up: a scrape, not our belief, says the metrics exist.
        await RoutingTests.WaitUntilAsync(async () =>
        {
            var targets = await prometheus.GetFromJsonAsync<JsonElement>("/api/v1/targets").WaitAsync(AppFixture.RequestDeadline);
            var active = targets.GetProperty("data").GetProperty("activeTargets").EnumerateArray().ToList();
            return active.Count >= 4 && active.All(t => t.GetProperty("health").GetString() == "up");
        }, "Prometheus to scrape every service");

        const string Failed = "agent_failed_items_total{agent=\"{{agent}}\",track=\"{{track}}\"}[{{window}}]";
        const string Processed = "agent_processed_items_total{agent=\"{{agent}}\",track=\"{{track}}\"}[{{window}}]";
        await SendAsync(api, HttpMethod.Put, $"{AgentPath}/analysis-templates/drill-promql", new
        {
            intervalSeconds = 2,
            inconclusiveLimit = 30,
            metrics = new object[]
            {
                new
                {
                    name = "failed-ratio", source = "prometheus", judge = "threshold", comparison = "difference", direction = "increase", tolerance = 0.05,
                    query = $"sum(increase({Failed})) / clamp_min(sum(increase({Processed})) + sum(increase({Failed})), 1)",
                },
            },
        });
        var revision = await CreateRevisionAsync(api, "1.3.0-faulty", new { failureRate = 0.2 });

        using var load = new Load(gateway, clients: 4);
        try
        {
            var started = await SendAsync(api, HttpMethod.Post, $"{AgentPath}/rollouts", new
            {
                revision,
                steps = new object[] { new { setWeight = 1_000 }, new { pause = new { } } },
                analysis = new { template = "drill-promql" },
                reason = "promql drill",
            });
            var rolloutId = started.GetProperty("id").GetInt64();

            var rollout = await WaitForRolloutAsync(api, Decided, "the PromQL analysis to decide");

            Assert.Equal("Aborted", rollout.GetProperty("state").GetString());
            await RoutingTests.WaitForGatewayWeightAsync(gateway, 0);
            var runs = await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/rollouts/{rolloutId}/analysis-runs").WaitAsync(AppFixture.RequestDeadline);
            var run = runs.GetProperty("runs").EnumerateArray().Single();
            Assert.Equal("Fail", run.GetProperty("state").GetString());
            var metric = run.GetProperty("measurements").EnumerateArray().Last().GetProperty("metrics").EnumerateArray().Single();
            Assert.Equal(("prometheus", "Fail"), (metric.GetProperty("source").GetString(), metric.GetProperty("verdict").GetString()));
            var canaryRatio = metric.GetProperty("sample").GetProperty("canary").GetProperty("value").GetDouble();
            var stableRatio = metric.GetProperty("sample").GetProperty("stable").GetProperty("value").GetDouble();
            Assert.InRange(canaryRatio - stableRatio, 0.05, 0.6);
        }
        finally
        {
            await load.StopAsync();
            await CleanupAsync(api);
        }
    }

    /// <summary>
    /// Debian's real Alertmanager, configured with a webhook receiver at RolloutApi's <c>POST /api/alerts/alertmanager</c>
    /// (operator key as the Bearer credential, as Alertmanager's <c>http_config.authorization</c> sends it): an alert posted to
    /// Alertmanager's own API with the agent's label aborts the rollout. Done means the gateway applied weight 0 and the
    /// agents' own answers say no request reaches the canary any more; the audit names the alert.
    /// </summary>
    [Fact]
    public async Task A_firing_alert_through_a_real_alertmanager_aborts_the_rollout_and_the_gateway_applies_it()
    {
        using var api = fixture.CreateOperatorClient();
        using var gateway = fixture.CreateGatewayClient();
        var rolloutApi = fixture.App.GetEndpoint(ResourceNames.RolloutApi, "http");
        using var alertmanager = MonitoringProcess.StartAlertmanager($"""
            route:
              receiver: rollout-api
              group_by: [alertname, agent]
              group_wait: 0s
              group_interval: 1s
              repeat_interval: 1h
            receivers:
              - name: rollout-api
                webhook_configs:
                  - url: '{new Uri(rolloutApi, "/api/alerts/alertmanager")}'
                    send_resolved: false
                    http_config:
                      authorization:
                        type: Bearer
                        credentials: '{fixture.OperatorKey}'
            """);
        await alertmanager.WaitReadyAsync(DrillDeadline);
        var revision = await CreateRevisionAsync(api, "1.1.0", flags: null);
        try
        {
            var started = await SendAsync(api, HttpMethod.Post, $"{AgentPath}/rollouts", new
            {
                revision,
                steps = new object[] { new { setWeight = 5_000 }, new { pause = new { } } },
                reason = "alertmanager drill",
            });
            var rolloutId = started.GetProperty("id").GetInt64();
            await RoutingTests.WaitForGatewayWeightAsync(gateway, 5_000);
            Assert.True(await RoutingTests.CountCanaryAsync(gateway, requests: 40) > 0, "The canary serves at 50 % before the alert.");

            // Alertmanager's own API, as Prometheus would post a firing alert.
            using var client = new HttpClient { BaseAddress = alertmanager.Address, Timeout = AppFixture.RequestDeadline };
            using var posted = await client.PostAsJsonAsync("/api/v2/alerts", new[]
            {
                new
                {
                    labels = new Dictionary<string, string> { ["alertname"] = "AgentCanaryFailedItemsAboveStable", ["agent"] = ResourceNames.DefaultAgent, ["severity"] = "page" },
                    annotations = new Dictionary<string, string> { ["summary"] = "Canary fails 20 % more items than stable" },
                    startsAt = DateTimeOffset.UtcNow.AddSeconds(-5),
                },
            });
            Assert.True(posted.IsSuccessStatusCode, $"Alertmanager refused the alert: {(int)posted.StatusCode} {await posted.Content.ReadAsStringAsync()}\n{alertmanager.Output}");

            var rollout = await WaitForRolloutAsync(api, r => r.GetProperty("state").GetString() == "Aborted", "Alertmanager's webhook to abort the rollout");
            Assert.Equal(0, rollout.GetProperty("weight").GetInt32());
            await RoutingTests.WaitForGatewayWeightAsync(gateway, 0);
            Assert.Equal(0, await RoutingTests.CountCanaryAsync(gateway, requests: 40));

            var audit = await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/audit?rolloutId={rolloutId}").WaitAsync(AppFixture.RequestDeadline);
            var abort = Assert.Single(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "Aborted");
            Assert.Contains("Alertmanager alert AgentCanaryFailedItemsAboveStable firing", abort.GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.StartsWith("alertmanager:", abort.GetProperty("actor").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            await CleanupAsync(api);
        }
    }

    /// <summary>The revision for <paramref name="version"/> (reused if an earlier test made it), with a flag set when given.</summary>
    private static async Task<int> CreateRevisionAsync(HttpClient api, string version, object? flags)
    {
        var revisions = await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/revisions").WaitAsync(AppFixture.RequestDeadline);
        var existing = revisions.EnumerateArray().FirstOrDefault(r => r.GetProperty("version").GetString() == version);
        var number = existing.ValueKind == JsonValueKind.Object
            ? existing.GetProperty("number").GetInt32()
            : (await SendAsync(api, HttpMethod.Post, $"{AgentPath}/revisions", new { version, imageTag = version })).GetProperty("number").GetInt32();
        if (flags is not null)
        {
            // The revision's flag set turns on the agent's fault injection wherever the revision runs.
            using var response = await api.PutAsJsonAsync($"{AgentPath}/revisions/{number}/flags", new
            {
                feature_management = new
                {
                    feature_flags = new object[]
                    {
                        new
                        {
                            id = "FaultInjection",
                            enabled = true,
                            variants = new object[] { new { name = "drill", configuration_value = flags } },
                            allocation = new { default_when_enabled = "drill" },
                        },
                    },
                },
            }).WaitAsync(AppFixture.RequestDeadline);
            Assert.True(response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.Conflict,
                $"PUT flags: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        return number;
    }

    /// <summary>The sum of an agent's counter, from a scrape of its own <c>/metrics</c>.</summary>
    private async Task<double> AgentCounterAsync(string resource, string metric)
    {
        using var client = fixture.App.CreateHttpClient(resource, "http");
        var text = await client.GetStringAsync("/metrics").WaitAsync(AppFixture.RequestDeadline);
        return text.Split('\n')
            .Where(line => line.StartsWith(metric, StringComparison.Ordinal) && !line.StartsWith('#'))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(parts => parts.Length >= 2 && parts[0].Split('{')[0].StartsWith(metric + "_total", StringComparison.Ordinal))
            .Sum(parts => double.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    private static async Task<JsonElement> SendAsync(HttpClient api, HttpMethod method, string path, object body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        using var response = await api.SendAsync(request).WaitAsync(AppFixture.RequestDeadline);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<JsonElement> WaitForRolloutAsync(HttpClient api, Func<JsonElement, bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var rollout = await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/rollout").WaitAsync(AppFixture.RequestDeadline);
            if (condition(rollout))
            {
                return rollout;
            }

            Assert.True(clock.Elapsed < DrillDeadline, $"Timed out after {DrillDeadline} waiting for {what}; the rollout: {rollout}");
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>Aborted, promoted, or held for a human.</summary>
    private static bool Decided(JsonElement rollout) =>
        rollout.GetProperty("state").GetString() is "Aborted" or "Promoted" || rollout.GetProperty("hold").ValueKind == JsonValueKind.String;

    private static async Task CleanupAsync(HttpClient api)
    {
        // Leave no active rollout behind for the other tests, whatever failed above, and let forced traffic reach the
        // canary again (an abort makes the canary refuse it until an operator allows it).
        using var response = await api.PostAsJsonAsync($"{AgentPath}/rollout/abort", new { reason = "drill cleanup" });
        using var allowed = await api.PutAsJsonAsync($"{AgentPath}/forced-canary", new { allowed = true });
        Assert.True(allowed.IsSuccessStatusCode, $"PUT forced-canary: {(int)allowed.StatusCode} {await allowed.Content.ReadAsStringAsync()}");
    }

    /// <summary>Closed-loop clients sending work items through the gateway until stopped; counts answers by status.</summary>
    private sealed class Load : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task[] _clients;

        public Load(HttpClient gateway, int clients) => _clients = [.. Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                using var response = await WorkItems.SendAsync(gateway, forcedTrack: null);
                Statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
            }
        }))];

        public ConcurrentDictionary<int, int> Statuses { get; } = new();

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_clients).WaitAsync(AppFixture.RequestDeadline);
        }

        public void Dispose() => _stop.Dispose();
    }
}
