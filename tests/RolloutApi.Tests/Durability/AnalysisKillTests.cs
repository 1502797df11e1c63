using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentAspire.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using RolloutApi.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RolloutApi.Tests.Durability;

/// <summary>
/// SIGKILL of a real RolloutApi process while a background analysis runs (a PromQL metric against a real Prometheus that
/// scrapes a real exporter), restarted each time on the same SQLite file. The run must resume, not restart: one run, its
/// measurements numbered 1..n with no gap and none taken twice for one interval, one verdict, one abort, and one outbox
/// row per event (every audited transition and the verdict, none doubled, none lost), all delivered to the webhook.
/// </summary>
public sealed class AnalysisKillTests(ITestOutputHelper output)
{
    private const int Seed = 10_2026;
    private const int Kills = 4;
    private const string AgentPath = $"/api/agents/{RolloutApiFactory.Agent}";
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_background_analysis_killed_mid_run_resumes_without_counting_anything_twice()
    {
        var failed = 0L;
        await using var exporter = await LoopbackServer.StartAsync(app => app.MapGet("/metrics", () => Results.Text(string.Create(CultureInfo.InvariantCulture,
            $$"""
            # TYPE agent_failed_items_total counter
            agent_failed_items_total{agent="{{RolloutApiFactory.Agent}}",track="stable"} 0
            agent_failed_items_total{agent="{{RolloutApiFactory.Agent}}",track="canary"} {{Interlocked.Read(ref failed)}}

            """), "text/plain; version=0.0.4")));
        using var prometheus = MonitoringProcess.StartPrometheus($"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: agent
                static_configs:
                  - targets: ['127.0.0.1:{exporter.Port}']
            """);
        var received = new ConcurrentDictionary<string, string>();
        await using var webhook = await LoopbackServer.StartAsync(app => app.MapPost("/hook", async (HttpRequest request) =>
        {
            var cloudEvent = await JsonSerializer.DeserializeAsync<JsonElement>(request.Body);
            received[cloudEvent.GetProperty("id").GetString()!] = cloudEvent.GetProperty("type").GetString()!;
            return Results.Ok();
        }));
        await prometheus.WaitReadyAsync(Budget);

        // Prometheus ready is not Prometheus scraped: wait until it holds both tracks' series, so that every measurement
        // before the canary goes bad has data to judge (on a quiet machine the first interval comes before the first scrape).
        using (var query = new HttpClient { BaseAddress = prometheus.Address })
        {
            await WaitForAsync(query, "/api/v1/query?query=agent_failed_items_total",
                r => r.GetProperty("data").GetProperty("result").GetArrayLength() == 2, "Prometheus to scrape both tracks' series");
        }

        var directory = TestPaths.NewTempDirectory();
        var database = Path.Combine(directory, "analysis-kill.db");
        var settings = new Dictionary<string, string?>
        {
            ["RolloutApi:ReconcileInterval"] = "00:00:00.250",
            ["Analysis:Prometheus:Url"] = prometheus.Address.ToString(),
            ["Notifications:Webhooks:chat:Url"] = new Uri(webhook.Address, "/hook").ToString(),
            ["Notifications:Webhooks:chat:Secret"] = "a-webhook-secret-for-tests",
            ["Notifications:PollInterval"] = "00:00:00.100",
            ["Notifications:InitialBackoff"] = "00:00:00.050",
        };
        var random = new Random(Seed);
        var process = RolloutApiProcess.Start(database, settings);
        try
        {
            await process.WaitReadyAsync(Budget);
            using (var client = process.CreateClient())
            {
                await SendAsync(client, HttpMethod.Put, $"{AgentPath}/analysis-templates/kill", """
                    {"intervalSeconds": 1, "failureLimit": 0, "inconclusiveLimit": 600, "metrics": [
                      {"name": "failed", "source": "prometheus", "judge": "threshold", "comparison": "difference", "tolerance": 0.5,
                       "query": "sum(agent_failed_items_total{agent=\"{{agent}}\",track=\"{{track}}\"})"}]}
                    """);
                var revision = (await SendAsync(client, HttpMethod.Post, $"{AgentPath}/revisions", """{"version":"2.0.0","imageTag":"2.0.0"}""")).GetProperty("number").GetInt32();
                await SendAsync(client, HttpMethod.Post, $"{AgentPath}/rollouts",
                    "{\"revision\":" + revision.ToString(CultureInfo.InvariantCulture) + ""","steps":[{"setWeight":1000},{"pause":{}}],"analysis":{"template":"kill"}}""");
            }

            // Kill while the run is measuring: each time after at least one more measurement is on disk, at a random moment.
            var measured = 0;
            for (var kill = 0; kill < Kills; kill++)
            {
                using (var client = process.CreateClient())
                {
                    measured = await WaitForMeasurementsAsync(client, measured + 1);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(random.Next(0, 1_000))); // the kill point (the stimulus, not synchronisation)
                await process.KillAsync();
                process.Dispose();
                output.WriteLine($"kill {kill + 1} after {measured} measurement(s)");
                process = RolloutApiProcess.Start(database, settings);
                await process.WaitReadyAsync(Budget);
            }

            using var api = process.CreateClient();
            measured = await WaitForMeasurementsAsync(api, measured + 1);

            // Now the canary goes bad: the next measurement fails the run and aborts the rollout, once.
            Interlocked.Exchange(ref failed, 10);
            var rollout = await WaitForAsync(api, $"{AgentPath}/rollout", r => r.GetProperty("state").GetString() == "Aborted", "the analysis to abort");
            Assert.Equal(0, rollout.GetProperty("weight").GetInt32());

            var runs = (await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/rollout/analysis-runs")).GetProperty("runs").EnumerateArray().ToList();
            var run = Assert.Single(runs);
            Assert.Equal(("Background", "Fail"), (run.GetProperty("kind").GetString(), run.GetProperty("state").GetString()));
            var measurements = run.GetProperty("measurements").EnumerateArray().ToList();
            Assert.Equal(Enumerable.Range(1, measurements.Count), measurements.Select(m => m.GetProperty("number").GetInt32()));
            Assert.True(measurements.Count > Kills, $"{measurements.Count} measurements over {Kills} kills");
            Assert.Equal("Fail", measurements[^1].GetProperty("verdict").GetString());
            Assert.All(measurements[..^1], m => Assert.Equal("Pass", m.GetProperty("verdict").GetString()));
            var times = measurements.Select(m => m.GetProperty("at").GetDateTimeOffset()).ToList();
            Assert.All(times.Zip(times.Skip(1)), pair => Assert.True(pair.Second - pair.First >= TimeSpan.FromMilliseconds(950),
                $"Two measurements {(pair.Second - pair.First).TotalMilliseconds:0} ms apart: one interval was measured twice."));
            Assert.Equal(1, run.GetProperty("counts").GetProperty("fail").GetInt32());

            var audit = (await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/audit")).EnumerateArray().ToList();
            Assert.Single(audit, e => e.GetProperty("action").GetString() == "Aborted");

            // The outbox: one row per audited transition and one for the verdict, each written once.
            await WaitUntilDeliveredAsync(database);
            var rows = await OutboxAsync(database);
            Assert.Equal(rows.Count, rows.Select(r => r.EventId).Distinct().Count());
            Assert.Single(rows, r => r.Type == "io.agentaspire.analysis.fail");
            Assert.Single(rows, r => r.Type == "io.agentaspire.rollout.aborted");
            Assert.Equal(audit.Count, rows.Count(r => r.Type.StartsWith("io.agentaspire.rollout.", StringComparison.Ordinal)));
            Assert.Equal(rows.Select(r => r.EventId).Order(), received.Keys.Order());
        }
        catch (Exception) when (Report(process))
        {
            throw;
        }
        finally
        {
            process.Dispose();
        }
    }

    private bool Report(RolloutApiProcess process)
    {
        output.WriteLine(process.Output);
        return false;
    }

    private static async Task<int> WaitForMeasurementsAsync(HttpClient client, int atLeast)
    {
        var runs = await WaitForAsync(client, $"{AgentPath}/rollout/analysis-runs",
            r => r.GetProperty("runs").EnumerateArray().Any(run => run.GetProperty("counts").GetProperty("measurements").GetInt32() >= atLeast),
            $"{atLeast} measurement(s)");
        return runs.GetProperty("runs").EnumerateArray().Max(run => run.GetProperty("counts").GetProperty("measurements").GetInt32());
    }

    private static async Task<JsonElement> WaitForAsync(HttpClient client, string path, Func<JsonElement, bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await client.GetFromJsonAsync<JsonElement>(path);
            if (condition(value))
            {
                return value;
            }

            Assert.True(clock.Elapsed < Budget, $"Timed out waiting for {what}: {value}");
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    private static async Task<JsonElement> SendAsync(HttpClient client, HttpMethod method, string path, string json)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task WaitUntilDeliveredAsync(string database)
    {
        var clock = Stopwatch.StartNew();
        while ((await OutboxAsync(database)).Any(r => r.State != "Delivered"))
        {
            Assert.True(clock.Elapsed < Budget, "The outbox was not drained.");
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    private static async Task<List<(string EventId, string Type, string State)>> OutboxAsync(string database)
    {
        var connectionString = new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT event_id, type, state FROM notification_outbox ORDER BY id";
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string, string)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }

        return rows;
    }
}
