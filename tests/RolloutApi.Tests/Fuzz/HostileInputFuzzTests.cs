using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RolloutApi.Rollouts;
using RolloutApi.Storage;
using RolloutApi.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RolloutApi.Tests.Fuzz;

/// <summary>
/// A seeded fuzz of malformed and hostile requests against the in-process server. Every mutating request is built to be
/// wrong in at least one way, so each must be refused with a 4xx (never a 5xx) and, across the whole run, nothing in the
/// database may change: every table in the file (core, flags, analysis, ...) is compared row by row. A share of the requests
/// carries the viewer key: its well-formed mutations must be refused (403) and its hostile reads fail cleanly.
/// </summary>
public sealed class HostileInputFuzzTests(ITestOutputHelper output) : IDisposable
{
    private const int Seed = 20_260_301;
    private const int Requests = 2_400;
    private const string Agent = RolloutApiFactory.Agent;
    private static readonly string[] Operations = ["pause", "resume", "promote", "promote-full", "abort", "retry"];
    private static readonly string[] StaleETags = ["\"999\"", "\"0\"", "W/\"1\"", "W/\"2\"", "\"-1\"", "\"1\", \"998\""];
    private static readonly string[] MalformedETags = ["garbage", "\"unterminated", "1", "\"a\" \"b\"", "W/", "\u0001"];

    private readonly RolloutApiFactory _factory = new(new FakeTimeProvider(EngineHost.Epoch));

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Malformed_and_hostile_requests_get_4xx_problems_and_change_nothing()
    {
        using var client = _factory.Operator();
        await ArrangeActiveRolloutAsync(client);
        var before = await SnapshotAsync();
        var random = new Random(Seed);

        var failures = new List<string>();
        var statuses = new Dictionary<int, int>();
        for (var i = 0; i < Requests; i++)
        {
            var (request, mutates, label) = Next(random, i);
            using (request)
            {
                using var response = await SendAsync(request, label);
                var status = (int)response.StatusCode;
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                var body = await response.Content.ReadAsStringAsync();
                if (label.EndsWith("(viewer key)", StringComparison.Ordinal) && status != 403)
                {
                    failures.Add($"#{i} {label}: a viewer's mutation got {status}, not 403");
                }
                else if (status >= 500 || (mutates && status is < 400 or >= 500))
                {
                    failures.Add($"#{i} {label}: {status} {body[..Math.Min(200, body.Length)]}");
                }
                else if (status >= 400 && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                {
                    failures.Add($"#{i} {label}: {status} without a problem document");
                }
            }
        }

        var after = await SnapshotAsync();
        output.WriteLine($"{Requests} requests, seed {Seed}: " + string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key} x{s.Value}")));
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        Assert.Equal(before, after);
        Assert.True(statuses.Keys.Count(s => s >= 400) >= 6, string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}x{s.Value}")));
    }

    /// <summary>Marks a request to be sent without any credential (HttpRequestOptions cannot hold a null value).</summary>
    private const string Anonymous = "(anonymous)";

    private HttpClient Client(string key) => key == Anonymous ? _factory.CreateClient(apiKey: null) : _factory.CreateClient(key);

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string label)
    {
        var key = request.Options.TryGetValue(KeyOption, out var chosen) ? chosen : RolloutApiFactory.OperatorKey;
        using var client = Client(key);
        try
        {
            return await client.SendAsync(request).WaitAsync(Deadline.Request);
        }
        catch (Exception ex) when (ex is not TimeoutException)
        {
            throw new InvalidOperationException($"Request {label} failed in transport", ex);
        }
    }

    private static readonly HttpRequestOptionsKey<string> KeyOption = new("api-key");

    /// <summary>
    /// One rollout held at an indefinite pause and a spare revision: every "valid" mutation is then a conflict. The flags
    /// are set too (agent definitions, revision 2's flag set, a kill switch on the canary), so that every flag table holds
    /// rows a hostile request could change or delete, not just rows it could add.
    /// </summary>
    private async Task ArrangeActiveRolloutAsync(HttpClient client)
    {
        foreach (var version in new[] { "2.0.0", "3.0.0" })
        {
            using var revision = await client.PostAsync($"/api/agents/{Agent}/revisions", Json.Body($$"""{"version": "{{version}}"}""")).WaitAsync(Deadline.Request);
            Assert.Equal(HttpStatusCode.Created, revision.StatusCode);
        }

        foreach (var (method, path, body, expected) in new[]
        {
            (HttpMethod.Put, $"/api/agents/{Agent}/flags/definitions", """{"feature_management": {"feature_flags": [{"id": "Fuzzed", "enabled": true}]}}""", HttpStatusCode.OK),
            (HttpMethod.Put, $"/api/agents/{Agent}/revisions/2/flags", """{"feature_management": {"feature_flags": [{"id": "Shipped", "enabled": true}]}}""", HttpStatusCode.Created),
            (HttpMethod.Post, $"/api/agents/{Agent}/flags/Fuzzed/kill", """{"track": "canary"}""", HttpStatusCode.OK),
        })
        {
            using var request = new HttpRequestMessage(method, path) { Content = Json.Body(body) };
            using var response = await client.SendAsync(request).WaitAsync(Deadline.Request);
            Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        using var started = await client.PostAsync($"/api/agents/{Agent}/rollouts", Json.Body("""{"revision": 2, "steps": [{"pause": {}}]}"""))
            .WaitAsync(Deadline.Request);
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        await Deadline.PollAsync(
            async () => await (await client.GetAsync($"/api/agents/{Agent}/rollout").WaitAsync(Deadline.Request)).ReadAsync<RolloutStatus>(),
            s => s.CurrentStepIndex == 0, Deadline.Request, "the rollout to rest at its pause");
    }

    private async Task<string> SnapshotAsync()
    {
        var database = _factory.Services.GetRequiredService<SqliteDatabase>();
        await using var session = await database.ReadAsync(CancellationToken.None);
        var text = new StringBuilder();
        // Every table in the file, found rather than listed, so a table a feature adds later (flags, analysis, ...) is
        // compared too.
        var tables = new List<string>();
        await using (var list = session.Command("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"))
        await using (var names = await list.ExecuteReaderAsync())
        {
            while (await names.ReadAsync())
            {
                tables.Add(names.GetString(0));
            }
        }

        Assert.Superset(new HashSet<string> { "agents", "audit", "flag_agents", "forced_canary_allowances", "rollouts", "routing_state" }, tables.ToHashSet());
        var rows = new Dictionary<string, int>();
        foreach (var table in tables)
        {
            await using var command = session.Command($"SELECT * FROM \"{table}\" ORDER BY rowid");
            await using var reader = await command.ExecuteReaderAsync();
            text.Append(table).Append('\n');
            rows[table] = 0;
            while (await reader.ReadAsync())
            {
                rows[table]++;
                for (var c = 0; c < reader.FieldCount; c++)
                {
                    text.Append(reader.IsDBNull(c) ? "NULL" : reader.GetValue(c)).Append('|');
                }

                text.Append('\n');
            }
        }

        // The comparison can only see a changed or deleted row where there is one: the flag tables must not be empty.
        foreach (var table in new[] { "flag_agents", "flag_revision_sets", "flag_kills", "flag_snapshots" })
        {
            Assert.True(rows.GetValueOrDefault(table) > 0, $"{table} is empty: the snapshot cannot see a hostile change to it");
        }

        output.WriteLine("rows compared: " + string.Join(", ", rows.Select(r => $"{r.Key} {r.Value}")));
        return text.ToString();
    }

    // ------------------------------------------------------------------ generator

    private static (HttpRequestMessage Request, bool Mutates, string Label) Next(Random random, int index)
    {
        var roll = random.Next(100);
        if (roll < 8)
        {
            return HostileRead(random);
        }

        var target = random.Next(5);
        var (method, path, validBody) = target switch
        {
            0 => (HttpMethod.Put, $"/api/agents/{Agent}/weight", """{"weight": 500}"""),
            1 => (HttpMethod.Post, $"/api/agents/{Agent}/revisions", $$"""{"version": "9.{{index}}.0"}"""),
            2 => (HttpMethod.Post, $"/api/agents/{Agent}/rollouts", """{"revision": 3, "steps": [{"setWeight": 100}]}"""),
            3 => (HttpMethod.Post, $"/api/agents/{Agent}/rollout/{Pick(random, Operations)}", """{"reason": "fuzz"}"""),
            _ => (HttpMethod.Post, $"/api/agents/{Agent}/undo", """{"revision": 1}"""),
        };

        var defect = random.Next(13);
        var request = new HttpRequestMessage(method, path);
        string label;
        switch (defect)
        {
            case 0:
                label = "malformed JSON";
                request.Content = Json.Body(MalformedJson(random, validBody));
                break;
            case 1:
                label = "wrong types";
                request.Content = Json.Body(WrongTypes(random, target));
                break;
            case 2:
                label = "numbers out of range";
                request.Content = Json.Body(OutOfRange(random, target));
                break;
            case 3:
                label = "unknown fields";
                request.Content = Json.Body(UnknownFields(random, validBody));
                break;
            case 4:
                label = "oversized body";
                request.Content = Oversized(random, validBody);
                break;
            case 5 when target == 2:
                label = "invalid steps";
                request.Content = Json.Body(InvalidSteps(random));
                break;
            case 5:
                label = "invalid strings";
                request.Content = Json.Body(InvalidStrings(random, target, index));
                break;
            case 6:
                label = "stale ETag";
                request.Content = Json.Body(validBody);
                request.Headers.TryAddWithoutValidation("If-Match", Pick(random, StaleETags));
                break;
            case 7:
                label = "malformed ETag";
                request.Content = Json.Body(validBody);
                request.Headers.TryAddWithoutValidation("If-Match", Pick(random, MalformedETags));
                break;
            case 8:
                label = "unknown agent";
                request.RequestUri = new Uri(path.Replace(Agent, Pick(random, HostileAgents()), StringComparison.Ordinal), UriKind.Relative);
                request.Content = Json.Body(validBody);
                break;
            case 9:
                label = "wrong content type";
                request.Content = new StringContent(validBody, Encoding.UTF8, Pick(random, ["text/plain", "application/xml", "application/x-www-form-urlencoded"]));
                break;
            case 10:
                var key = Pick(random, new[] { Anonymous, RolloutApiFactory.ViewerKey, "wrong-key", "" });
                label = $"credential '{key}'";
                request.Content = Json.Body(validBody);
                request.Options.Set(KeyOption, key);
                break;
            case 11:
                // A viewer may read everything and change nothing: well-formed mutations, the flag and forced-canary ones
                // included, are refused (403 problem) and leave every table as it was.
                var (viewerMethod, viewerPath, viewerBody) = Pick(random, ViewerMutations(index));
                label = "viewer key";
                request.Method = viewerMethod;
                request.RequestUri = new Uri(viewerPath, UriKind.Relative);
                request.Content = viewerBody is null ? null : Json.Body(viewerBody);
                request.Options.Set(KeyOption, RolloutApiFactory.ViewerKey);
                break;
            default:
                label = "hostile structure";
                request.Content = Json.Body(HostileStructure(random, validBody));
                break;
        }

        return (request, true, $"{request.Method} {request.RequestUri} ({label})");
    }

    private static (HttpRequestMessage, bool, string) HostileRead(Random random)
    {
        var path = Pick(random, new[]
        {
            $"/api/agents/{Agent}/audit?limit=abc",
            $"/api/agents/{Agent}/audit?limit=-5&before=-1",
            $"/api/agents/{Agent}/audit?limit=99999999999",
            $"/api/agents/{Agent}/rollouts?limit=2147483648",
            $"/api/agents/{Agent}/rollouts/99999999999999999999",
            $"/api/agents/{Agent}/rollouts/-1",
            $"/api/agents/{Agent}/revisions/0",
            $"/api/agents/{Agent}/revisions/abc",
            $"/api/agents/{new string('a', 3000)}/rollout",
            "/api/agents/%7F%25/rollout",
            "/api/agents/%E2%80%AE/revisions",
        });
        var read = new HttpRequestMessage(HttpMethod.Get, path);
        if (random.Next(2) == 0)
        {
            // Reads are what a viewer does: hostile ones must fail as cleanly for it as for an operator.
            read.Options.Set(KeyOption, RolloutApiFactory.ViewerKey);
        }

        return (read, false, $"GET {path[..Math.Min(80, path.Length)]}");
    }

    private static (HttpMethod, string, string?)[] ViewerMutations(int index) =>
    [
        (HttpMethod.Put, $"/api/agents/{Agent}/weight", """{"weight": 500}"""),
        (HttpMethod.Post, $"/api/agents/{Agent}/revisions", $$"""{"version": "8.{{index}}.0"}"""),
        (HttpMethod.Post, $"/api/agents/{Agent}/rollout/abort", """{"reason": "viewer"}"""),
        (HttpMethod.Post, $"/api/agents/{Agent}/undo", """{"revision": 1}"""),
        (HttpMethod.Put, $"/api/agents/{Agent}/forced-canary", """{"allowed": true}"""),
        (HttpMethod.Put, $"/api/agents/{Agent}/flags/definitions", """{"feature_management": {"feature_flags": []}}"""),
        (HttpMethod.Post, $"/api/agents/{Agent}/flags/kill", """{"track": "canary"}"""),
        (HttpMethod.Post, $"/api/agents/{Agent}/flags/summarize/kill", """{"track": "canary"}"""),
        (HttpMethod.Delete, $"/api/agents/{Agent}/flags/kill", null),
        (HttpMethod.Put, $"/api/agents/{Agent}/revisions/2/flags", """{"feature_management": {"feature_flags": []}}"""),
    ];

    private static string[] HostileAgents() =>
        ["no-such-agent", "AGENT-WORKER", "agent-worker%20", "%2e%2e", new string('x', 2_000), "agent-worker%7F", "%F0%9F%92%A5", "'; DROP TABLE agents; --"];

    private static string MalformedJson(Random random, string valid) => random.Next(8) switch
    {
        0 => valid[..random.Next(1, valid.Length - 1)],
        1 => "{",
        2 => "nul",
        3 => valid + "}",
        4 => "\uFEFF{garbage",
        5 => Encoding.Latin1.GetString(RandomBytes(random, 64)),
        6 => valid.Replace(":", "", StringComparison.Ordinal),
        _ => "{\"a\":}",
    };

    private static string WrongTypes(Random random, int target)
    {
        var wrong = Pick(random, new[] { "\"5\"", "true", "[]", "{}", "1.5", "\"\"", "[1,2]", "{\"a\":1}" });
        return target switch
        {
            0 => $$"""{"weight": {{wrong}}}""",
            1 => random.Next(2) == 0 ? $$"""{"version": {{wrong.Replace("\"5\"", "5", StringComparison.Ordinal).Replace("\"\"", "0", StringComparison.Ordinal)}}}""" : $$"""{"version": "9.9.9", "imageTag": 7}""",
            2 => random.Next(2) == 0 ? $$"""{"revision": {{wrong}}}""" : $$"""{"revision": 3, "steps": {{Pick(random, new[] { "{}", "5", "\"steps\"", "[1,2]", "[[]]", "[\"setWeight\"]" })}}}""",
            3 => $$"""{"reason": {{Pick(random, new[] { "5", "true", "[]", "{}" })}}}""",
            _ => $$"""{"revision": {{wrong}}}""",
        };
    }

    private static string OutOfRange(Random random, int target)
    {
        var number = Pick(random, new[] { "-1", "10001", "2147483648", "-2147483649", "1e400", "99999999999999999999999", "-0.5", "1E3", "0x10" });
        return target switch
        {
            0 => $$"""{"weight": {{number}}}""",
            1 => $$"""{"version": "9.9.9", "imageTag": "latest", "extra": {{number}}}""",
            2 => random.Next(2) == 0
                ? $$"""{"revision": {{Pick(random, new[] { "0", "-1", "2147483648", "1e400", "99999999999999999999" })}}}"""
                : $$$"""{"revision": 3, "steps": [{"pause": {"durationSeconds": {{{Pick(random, new[] { "0", "-5", "604801", "2147483648", "1e9" })}}}}}]}""",
            3 => $$"""{"reason": "x", "weight": {{number}}}""",
            _ => $$"""{"revision": {{Pick(random, new[] { "0", "-1", "2147483648", "1e400" })}}}""",
        };
    }

    private static string UnknownFields(Random random, string valid)
    {
        var field = Pick(random, new[] { "\"extra\": 1", "\"Weight\": 2", "\"__proto__\": {}", "\"steps \": []", "\"reason\u0000\": \"x\"" });
        return valid.Length > 2 && valid.EndsWith('}') ? valid[..^1] + ", " + field + "}" : "{" + field + "}";
    }

    private static HttpContent Oversized(Random random, string valid)
    {
        var padding = new string('a', 70 * 1024 + random.Next(1024));
        var body = valid[..^1] + $", \"reason\": \"{padding}\"}}";
        if (random.Next(2) == 0)
        {
            return Json.Body(body);
        }

        // No Content-Length: the server must cut the body off while reading it.
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body)));
        chunked.Headers.ContentType = new("application/json");
        chunked.Headers.ContentLength = null;
        return new ChunkedContent(chunked);
    }

    private static string InvalidSteps(Random random) => Pick(random, new[]
    {
        """{"revision": 3, "steps": []}""",
        $$"""{"revision": 3, "steps": [{{string.Join(",", Enumerable.Repeat("{\"setWeight\": 1}", 101))}}]}""",
        """{"revision": 3, "steps": [{}]}""",
        """{"revision": 3, "steps": [null]}""",
        """{"revision": 3, "steps": [{"setWeight": 100, "pause": {}}]}""",
        """{"revision": 3, "steps": [{"analysis": {"provider": "no-such-provider"}}]}""",
        """{"revision": 3, "steps": [{"setWeight": 10001}]}""",
        """{"revision": 3, "steps": [{"setWeight": -1}]}""",
        """{"revision": 3, "steps": [{"pause": {"durationSeconds": 0}}]}""",
        """{"revision": 3, "steps": [{"pause": null}]}""",
        """{"revision": 3, "steps": [{"pause": {"duration": "5m"}}]}""",
        """{"revision": 3, "steps": [{"setWeight": null, "analysis": null}]}""",
    });

    private static string InvalidStrings(Random random, int target, int index)
    {
        var version = Pick(random, new[] { "latest", "", " ", "1.0\\n", "-1.0", new string('1', 65), "１.０", "1.0 beta", "../../etc" });
        return target switch
        {
            1 => random.Next(2) == 0
                ? $$"""{"version": "{{version}}"}"""
                : $$"""{"version": "9.{{index}}.1", "imageTag": "{{Pick(random, new[] { "latest", "LATEST", "", "a b", "-x", ".x", new string('t', 129), "sha256:abc" })}}"}""",
            0 => """{"weight": null}""",
            _ => $$"""{"reason": "{{new string('r', AuditReasons.MaxLength + 1 + random.Next(100))}}"}""",
        };
    }

    private static string HostileStructure(Random random, string valid) => random.Next(4) switch
    {
        0 => new string('[', 200) + new string(']', 200),
        1 => valid[..^1] + ", " + valid[1..^1] + "}",
        2 => "[" + valid + "]",
        _ => "{\"a\":" + new string('{', 40) + new string('}', 41),
    };

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    /// <summary>Sends its inner content without a Content-Length (chunked transfer).</summary>
    private sealed class ChunkedContent(HttpContent inner) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => inner.CopyToAsync(stream);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
