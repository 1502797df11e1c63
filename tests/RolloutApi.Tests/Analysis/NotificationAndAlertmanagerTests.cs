using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using RolloutApi.Rollouts.Analysis.Notifications;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Analysis;

/// <summary>
/// Notifications and the Alertmanager receiver over real HTTP: every transition reaches a webhook as a signed CloudEvent,
/// retried with backoff while the webhook fails; a firing alert labelled with the agent aborts its rollout.
/// </summary>
public sealed class NotificationAndAlertmanagerTests : IDisposable
{
    private const string AgentPath = $"/api/agents/{RolloutApiFactory.Agent}";
    private const string Secret = "a-webhook-secret-for-tests";
    private readonly WebhookReceiver _webhook = new(failFirst: 2);
    private readonly RolloutApiFactory _factory;
    private readonly HttpClient _operator;

    public NotificationAndAlertmanagerTests()
    {
        _factory = new RolloutApiFactory(settings: new Dictionary<string, string?>
        {
            ["Notifications:Webhooks:chat:Url"] = _webhook.Url,
            ["Notifications:Webhooks:chat:Secret"] = Secret,
            ["Notifications:InitialBackoff"] = "00:00:00.050",
            ["Notifications:PollInterval"] = "00:00:00.100",
        });
        _operator = _factory.Operator();
    }

    public void Dispose()
    {
        _operator.Dispose();
        _factory.Dispose();
        _webhook.Dispose();
    }

    [Fact]
    public async Task Every_transition_reaches_the_webhook_as_a_signed_cloudevent_after_retries()
    {
        await PostAsync($"{AgentPath}/revisions", new { version = "2.0.0" });
        var rollout = await PostAsync($"{AgentPath}/rollouts", new { revision = 2, steps = new object[] { new { setWeight = 1000 }, new { pause = new { } } } });
        await PostAsync($"{AgentPath}/rollout/abort", new { reason = "notify me" });

        var aborted = await _webhook.WaitForAsync(e => e.GetProperty("type").GetString() == "io.agentaspire.rollout.aborted");

        Assert.Equal("1.0", aborted.GetProperty("specversion").GetString());
        Assert.Equal($"agents/{RolloutApiFactory.Agent}/rollouts/{rollout.GetProperty("id").GetInt64()}", aborted.GetProperty("subject").GetString());
        Assert.Equal("notify me", aborted.GetProperty("data").GetProperty("reason").GetString());
        Assert.Equal(0, aborted.GetProperty("data").GetProperty("to").GetProperty("weight").GetInt32());
        Assert.True(_webhook.Requests.Count >= 2 + 1, "the first two deliveries failed and were retried");
        Assert.All(_webhook.Delivered, d => Assert.True(d.SignatureValid, $"bad signature: {d.Signature}"));
        var types = _webhook.Delivered.Select(d => d.Event.GetProperty("type").GetString()).ToList();
        Assert.Contains("io.agentaspire.rollout.rolloutstarted", types);
        Assert.Equal(types.Count, _webhook.Delivered.Select(d => d.Event.GetProperty("id").GetString()).Distinct().Count());

        // The outbox remembers the failed attempts. The dispatcher marks a row Delivered after the webhook answers, and
        // which rows took the two failures depends on how many were due in the first pass: wait until every row is
        // Delivered, then count the attempts beyond one per row.
        var outbox = await Deadline.PollAsync(ReadOutboxAsync, o => o.Rows > 0 && o.Delivered == o.Rows, Deadline.Request, "every outbox row Delivered");
        Assert.True(outbox.Retries >= 2, $"the two failed deliveries are recorded as attempts (retries counted: {outbox.Retries})");
    }

    private async Task<(long Rows, long Delivered, long Retries)> ReadOutboxAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={_factory.DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*), COALESCE(SUM(state = 'Delivered'), 0), COALESCE(SUM(attempts), 0) - COUNT(*) FROM notification_outbox";
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    [Fact]
    public async Task A_firing_alert_labelled_with_the_agent_aborts_its_rollout_and_others_change_nothing()
    {
        await PostAsync($"{AgentPath}/revisions", new { version = "2.0.0" });
        await PostAsync($"{AgentPath}/rollouts", new { revision = 2, steps = new object[] { new { setWeight = 1000 }, new { pause = new { } } } });
        var payload = new
        {
            version = "4",
            status = "firing",
            receiver = "rollout-api",
            groupKey = "{}:{alertname=\"AgentCanaryFailedItemsAboveStable\"}",
            alerts = new object[]
            {
                new { status = "resolved", labels = new Dictionary<string, string> { ["alertname"] = "Old", ["agent"] = RolloutApiFactory.Agent } },
                new { status = "firing", labels = new Dictionary<string, string> { ["alertname"] = "NoAgent" } },
                new
                {
                    status = "firing",
                    labels = new Dictionary<string, string> { ["alertname"] = "AgentCanaryFailedItemsAboveStable", ["agent"] = RolloutApiFactory.Agent },
                    annotations = new Dictionary<string, string> { ["summary"] = "canary fails 20% more" },
                    startsAt = "2026-11-30T05:00:00Z",
                    fingerprint = "abc",
                },
            },
        };

        using var anonymous = _factory.CreateClient(apiKey: null);
        using var viewer = _factory.Viewer();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/alerts/alertmanager", payload)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync("/api/alerts/alertmanager", payload)).StatusCode);

        using var response = await _operator.PostAsJsonAsync("/api/alerts/alertmanager", payload);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        var results = JsonDocument.Parse(text).RootElement.EnumerateArray().Select(r => r.GetProperty("result").GetString()).ToList();
        Assert.Equal(["ignored: not firing", "ignored: no 'agent' label", "aborted"], results);

        var status = await _operator.GetFromJsonAsync<JsonElement>($"{AgentPath}/rollout");
        Assert.Equal("Aborted", status.GetProperty("state").GetString());
        Assert.Equal(0, status.GetProperty("weight").GetInt32());
        var audit = await _operator.GetFromJsonAsync<JsonElement>($"{AgentPath}/audit");
        var abort = audit.EnumerateArray().First(e => e.GetProperty("action").GetString() == "Aborted");
        Assert.StartsWith("alertmanager:", abort.GetProperty("actor").GetString(), StringComparison.Ordinal);
        Assert.Contains("AgentCanaryFailedItemsAboveStable firing: canary fails 20% more", abort.GetProperty("reason").GetString(), StringComparison.Ordinal);

        using var bad = await _operator.PostAsync("/api/alerts/alertmanager", Json.Body("""{"version": "4"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    private async Task<JsonElement> PostAsync(string path, object body)
    {
        using var response = await _operator.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>A real HTTP webhook on a free port that fails its first requests, then records signed CloudEvents.</summary>
    private sealed class WebhookReceiver : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly int _failFirst;
        private readonly Task _loop;
        private int _seen;

        public WebhookReceiver(int failFirst)
        {
            _failFirst = failFirst;
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = $"http://127.0.0.1:{port}/hook/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _loop = Task.Run(LoopAsync);
        }

        public string Url { get; }

        public ConcurrentQueue<string> Requests { get; } = new();

        public ConcurrentQueue<(JsonElement Event, string Signature, bool SignatureValid)> Delivered { get; } = new();

        public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> match)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                var found = Delivered.Select(d => d.Event).FirstOrDefault(match);
                if (found.ValueKind == JsonValueKind.Object)
                {
                    return found;
                }

                await Task.Delay(50);
            }

            throw new TimeoutException($"No matching event in 30 s; delivered: {string.Join(", ", Delivered.Select(d => d.Event.GetProperty("type")))}");
        }

        public void Dispose()
        {
            _listener.Close();
            try
            {
                _loop.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
                // The listener was closed under the loop.
            }
        }

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
                var body = await reader.ReadToEndAsync();
                Requests.Enqueue(body);
                if (Interlocked.Increment(ref _seen) <= _failFirst)
                {
                    context.Response.StatusCode = 500;
                    context.Response.Close();
                    continue;
                }

                var signature = context.Request.Headers[NotificationDispatcher.SignatureHeader] ?? string.Empty;
                var timestamp = long.Parse(signature.Split(',')[0]["t=".Length..], System.Globalization.CultureInfo.InvariantCulture);
                var valid = signature == NotificationDispatcher.Sign(Secret, timestamp, body)
                    && context.Request.ContentType == CloudEvent.MediaType + "; charset=utf-8";
                Delivered.Enqueue((JsonDocument.Parse(body).RootElement.Clone(), signature, valid));
                context.Response.StatusCode = 204;
                context.Response.Close();
            }
        }
    }
}
