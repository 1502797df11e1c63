using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

// Simulated fleet against one real RolloutApi and its real gateways (bench/scale/run.sh starts them):
//   for each size in --sizes (cumulative: 100 → 250 → ... subscribers stay connected), open flag-stream subscribers
//   (one SSE connection each, like an agent's), then
//   - flip the every-flag kill switch --flips times: per flip, the time from the call's start until EVERY subscriber has
//     received a snapshot at the version the call returned (and each subscriber's own arrival time);
//   - abort a rollout --aborts times: the abort call returns once every known gateway reported applying it
//     (RolloutApi:GatewayAckTimeout is set high in the script), so its duration is "abort reached all gateways";
//     the answer must say applied = known = --gateways;
//   - RolloutApi's resident memory (VmRSS) and CPU time (/proc) per size.
// Bounded: every wait has a deadline; prints one table row per size (markdown).
var options = Options.Parse(args);
var api = new Uri(options.Api);
using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
using var http = new HttpClient(handler) { BaseAddress = api, Timeout = Timeout.InfiniteTimeSpan };
using var control = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromSeconds(30) };
control.DefaultRequestHeaders.Add("X-Api-Key", options.OperatorKey);
var agentPath = $"/api/agents/{options.Agent}";
using var stop = new CancellationTokenSource();

// One flag, so that a kill switch changes the snapshot every subscriber receives.
await Send(control, HttpMethod.Put, $"{agentPath}/flags/definitions",
    """{"feature_management": {"feature_flags": [{"id": "BenchFlag", "enabled": true}]}}""", HttpStatusCode.OK);

// A rollout to abort: revision 2 at 50 %, held at an indefinite pause.
await Send(control, HttpMethod.Post, $"{agentPath}/revisions", """{"version": "2.0.0"}""", HttpStatusCode.Created);
await Send(control, HttpMethod.Post, $"{agentPath}/rollouts", """{"revision": 2, "steps": [{"setWeight": 5000}, {"pause": {}}]}""", HttpStatusCode.Created);
await WaitAsync(async () => (await RolloutWeight()) == 5000, "the rollout to reach 50 %");

var subscribers = new List<Subscriber>();
var idle = Measure.Take(options.ApiPid);
Console.WriteLine($"baseline (4 gateways, no subscribers): RSS {idle.RssKb / 1024.0:0.0} MB");
Console.WriteLine();
Console.WriteLine("| subscribers | kill switch → all subscribers p50 / p99 / max ms | per-subscriber arrival p99 ms | abort → all gateways p50 / p99 / max ms | gateways applied | RolloutApi RSS MB | KB per subscriber | RolloutApi CPU ms per flip |");
Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
foreach (var size in options.Sizes)
{
    while (subscribers.Count < size)
    {
        subscribers.Add(Subscriber.Start(http, agentPath, options.ViewerKey, stop.Token));
    }

    var current = await FlagVersion();
    await WaitAsync(() => Task.FromResult(subscribers.All(s => s.Latest >= current)), $"{size} subscribers to receive the current snapshot", TimeSpan.FromSeconds(60));
    GC.Collect();

    // Kill-switch flips.
    var allReached = new List<double>();
    var arrivals = new List<double>();
    var cpuBefore = Measure.Take(options.ApiPid);
    for (var flip = 0; flip < options.Flips; flip++)
    {
        var started = Stopwatch.GetTimestamp();
        var method = flip % 2 == 0 ? HttpMethod.Post : HttpMethod.Delete;
        var body = await Send(control, method, $"{agentPath}/flags/kill", null, HttpStatusCode.OK);
        var version = JsonDocument.Parse(body).RootElement.GetProperty("version").GetInt64();
        await WaitAsync(() => Task.FromResult(subscribers.All(s => s.Latest >= version)), $"flip {flip} to reach every subscriber", TimeSpan.FromSeconds(30));
        var times = subscribers.Select(s => Stopwatch.GetElapsedTime(started, s.ArrivalOf(version)).TotalMilliseconds).ToList();
        allReached.Add(times.Max());
        arrivals.AddRange(times);
    }

    var cpuAfter = Measure.Take(options.ApiPid);

    // Aborts: retry (back to 50 %), then abort, timed.
    var aborts = new List<double>();
    var applied = new List<string>();
    for (var i = 0; i < options.Aborts; i++)
    {
        var started = Stopwatch.GetTimestamp();
        var body = await Send(control, HttpMethod.Post, $"{agentPath}/rollout/abort", null, HttpStatusCode.OK);
        aborts.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        var gateways = JsonDocument.Parse(body).RootElement.GetProperty("gateways");
        applied.Add($"{gateways.GetProperty("applied").GetInt32()}/{gateways.GetProperty("known").GetInt32()}");
        await Send(control, HttpMethod.Post, $"{agentPath}/rollout/retry", null, HttpStatusCode.OK);
        await WaitAsync(async () => (await RolloutWeight()) == 5000, "the retried rollout to reach 50 %");
    }

    var memory = Measure.Take(options.ApiPid);
    var perSubscriber = (memory.RssKb - idle.RssKb) / (double)size;
    var cpuPerFlip = (cpuAfter.CpuMs - cpuBefore.CpuMs) / options.Flips;
    var appliedSummary = string.Join(", ", applied.GroupBy(a => a).Select(g => $"{g.Key} x{g.Count()}"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {size} | {P(allReached, 50):0.0} / {P(allReached, 99):0.0} / {allReached.Max():0.0} | {P(arrivals, 99):0.0} | " +
        $"{P(aborts, 50):0.0} / {P(aborts, 99):0.0} / {aborts.Max():0.0} | {appliedSummary} | {memory.RssKb / 1024.0:0.0} | {perSubscriber:0.0} | {cpuPerFlip:0.0} |"));
}

await stop.CancelAsync();
var broken = subscribers.Count(s => s.Failed is not null);
Console.WriteLine();
Console.WriteLine($"subscribers that lost their stream during the run: {broken}{(broken > 0 ? $" (first: {subscribers.First(s => s.Failed is not null).Failed})" : "")}");
return broken == 0 ? 0 : 1;

async Task<int> RolloutWeight()
{
    var body = await Send(control, HttpMethod.Get, $"{agentPath}/rollout", null, HttpStatusCode.OK);
    return JsonDocument.Parse(body).RootElement.GetProperty("weight").GetInt32();
}

async Task<long> FlagVersion()
{
    var body = await Send(control, HttpMethod.Get, $"{agentPath}/flags?track=stable", null, HttpStatusCode.OK);
    return JsonDocument.Parse(body).RootElement.GetProperty("version").GetInt64();
}

static async Task<string> Send(HttpClient client, HttpMethod method, string path, string? json, HttpStatusCode expected)
{
    using var request = new HttpRequestMessage(method, path);
    if (json is not null)
    {
        request.Content = new StringContent(json, Encoding.UTF8, "application/json");
    }

    using var response = await client.SendAsync(request);
    var body = await response.Content.ReadAsStringAsync();
    if (response.StatusCode != expected)
    {
        throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {body}");
    }

    return body;
}

static async Task WaitAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
{
    var deadline = Stopwatch.StartNew();
    while (!await condition())
    {
        if (deadline.Elapsed > (timeout ?? TimeSpan.FromSeconds(60)))
        {
            throw new TimeoutException($"timed out waiting for {what}");
        }

        // A poll period, not a synchronisation: the condition decides.
        await Task.Delay(1);
    }
}

static double P(List<double> values, double percentile)
{
    var sorted = values.Order().ToList();
    var index = (int)Math.Ceiling(percentile / 100 * sorted.Count) - 1;
    return sorted[Math.Clamp(index, 0, sorted.Count - 1)];
}

/// <summary>One simulated agent: a flag-stream connection that records when each snapshot version arrived.</summary>
internal sealed class Subscriber
{
    private readonly Dictionary<long, long> _arrivals = [];
    private long _latest = -1;

    public long Latest => Volatile.Read(ref _latest);

    public string? Failed { get; private set; }

    public long ArrivalOf(long version)
    {
        lock (_arrivals)
        {
            return _arrivals.Where(a => a.Key >= version).Min(a => a.Value);
        }
    }

    public static Subscriber Start(HttpClient http, string agentPath, string viewerKey, CancellationToken stop)
    {
        var subscriber = new Subscriber();
        _ = subscriber.RunAsync(http, agentPath, viewerKey, stop);
        return subscriber;
    }

    private async Task RunAsync(HttpClient http, string agentPath, string viewerKey, CancellationToken stop)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{agentPath}/flags/stream?track=stable");
            request.Headers.Add("X-Api-Key", viewerKey);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop);
            response.EnsureSuccessStatusCode();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop));
            while (await reader.ReadLineAsync(stop) is { } line)
            {
                if (!line.StartsWith("data:", StringComparison.Ordinal))
                {
                    continue;
                }

                var now = Stopwatch.GetTimestamp();
                var version = JsonDocument.Parse(line.AsMemory(5)).RootElement.GetProperty("version").GetInt64();
                lock (_arrivals)
                {
                    _arrivals.TryAdd(version, now);
                }

                Volatile.Write(ref _latest, Math.Max(_latest, version));
            }

            Failed = "stream ended";
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // a simulated subscriber records whatever ended its stream as its failure, reported by the bench
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Failed = ex.Message;
        }
    }
}

/// <summary>A process's resident memory and CPU time, from /proc.</summary>
internal readonly record struct Measure(long RssKb, double CpuMs)
{
    public static Measure Take(int pid)
    {
        var rss = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var rssKb = long.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // utime and stime are fields 14 and 15 of /proc/pid/stat (11 and 12 after the command), in clock ticks (100 Hz).
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return new Measure(rssKb, ticks * 10.0);
    }
}

internal sealed record Options(string Api, string OperatorKey, string ViewerKey, string Agent, int ApiPid, int[] Sizes, int Flips, int Aborts)
{
    public static Options Parse(string[] args)
    {
        string Get(string name) => args[Array.IndexOf(args, name) + 1];
        return new Options(Get("--api"), Get("--operator-key"), Get("--viewer-key"), Get("--agent"),
            int.Parse(Get("--api-pid"), CultureInfo.InvariantCulture),
            [.. Get("--sizes").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))],
            int.Parse(Get("--flips"), CultureInfo.InvariantCulture), int.Parse(Get("--aborts"), CultureInfo.InvariantCulture));
    }
}
