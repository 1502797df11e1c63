using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;

namespace FlagsBench;

// About 400 lines on purpose: one measurement (load, flip, observe every instance, check none falls back) reads top to
// bottom in one file; the pieces share the timing state of a flip.

/// <summary>
/// Kill-switch propagation under load. Gives the stable revision a flag set with the flag on, sends every agent instance a
/// steady stream of requests (open loop, a fixed rate each) and optionally closed-loop clients that keep it saturated, then flips the flag's kill switch (kill, restore, kill, ...) and, for each flip, times
/// from the moment the kill call returned until every instance has answered a request (sent after that moment) with the
/// new behaviour. It also checks that no instance falls back to the old behaviour once it has switched, and follows the
/// stable track's flag stream itself to show when the snapshot reached a subscriber relative to the kill call's answer.
/// </summary>
internal sealed class PropagationBench
{
    private const string Basic = "basic";
    private const string Enriched = "enriched";

    private static readonly byte[] Item = Encoding.UTF8.GetBytes(
        """{"kind": "text", "payload": {"text": "Kill switches turn new behaviour off in milliseconds. Flags follow revisions; agents follow flags."}}""");

    private readonly Uri _api;
    private readonly string _agentName;
    private readonly string _flag;
    private readonly AgentTarget[] _agents;
    private readonly HttpClient _control;
    private readonly HttpClient _stream;
    private readonly HttpClient _traffic;
    private readonly ConcurrentDictionary<long, long> _eventArrivals = new();
    private readonly TimeSpan _timeout;

    // Responses that end at or after this timestamp are not checked for staleness: a flip is under way.
    private long _fence = long.MaxValue;
    private long _stale;

    private PropagationBench(Arguments args)
    {
        _api = new Uri(args.Require("api"));
        _agentName = args.Get("agent", "agent-worker");
        _flag = args.Get("flag", "EnrichedOutput");
        _agents = [.. args.Require("agents").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(url => new AgentTarget(new Uri(url)))];
        _timeout = TimeSpan.FromMilliseconds(args.Int("timeout-ms", 5000));
        _control = new HttpClient { BaseAddress = _api, Timeout = TimeSpan.FromSeconds(30) };
        _control.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", args.Require("operator-key"));
        _stream = new HttpClient { BaseAddress = _api, Timeout = Timeout.InfiniteTimeSpan };
        _stream.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", args.Require("viewer-key"));
        _traffic = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public static async Task<int> RunAsync(Arguments args)
    {
        var bench = new PropagationBench(args);
        return await bench.RunAsync(
            args.Int("flips", 200), args.Int("warmup", 10), args.Int("rate", 100), args.Int("load", 0), args.Get("out", ""));
    }

    private async Task<int> RunAsync(int flips, int warmup, int rate, int load, string outFile)
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await ShipFlagSetAsync(stop.Token);
        foreach (var agent in _agents)
        {
            await WaitForBehaviourAsync(agent, Enriched, TimeSpan.FromSeconds(60), stop.Token);
        }

        using var loadStop = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        var watcher = WatchStreamAsync(loadStop.Token);
        var loadStarted = Stopwatch.GetTimestamp();
        var loops = _agents.SelectMany(agent => Enumerable.Range(0, load).Select(_ => LoadLoopAsync(agent, loadStop.Token)))
            .Concat(rate > 0 ? _agents.Select(agent => PaceAsync(agent, rate, loadStop.Token)) : [])
            .ToList();

        var random = new Random(20260301);
        var results = new List<FlipResult>();
        for (var i = 0; i < warmup + flips; i++)
        {
            var kill = i % 2 == 0;
            var result = await FlipAsync(kill, stop.Token);
            if (i >= warmup)
            {
                results.Add(result);
            }

            // A short, varying pause between flips, so that flips do not lock into step with anything periodic.
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(10, 40)), stop.Token);
        }

        var loadSeconds = Stopwatch.GetElapsedTime(loadStarted).TotalSeconds;
        await loadStop.CancelAsync();
        await Task.WhenAll(loops);
        await watcher;

        // Leave the flag on, as the run found it.
        if (results.Count > 0 && results[^1].Kill)
        {
            await FlipAsync(kill: false, stop.Token);
        }

        return Report(results, flips, warmup, rate, load, loadSeconds, outFile);
    }

    private async Task ShipFlagSetAsync(CancellationToken cancellationToken)
    {
        // Revision 1 (the seeded stable revision) ships the flag on; an idle canary serves the same set.
        var body = $$$"""
            {"feature_management": {"feature_flags": [{"id": "{{{_flag}}}", "enabled": true,
              "variants": [{"name": "keywords-5", "configuration_value": {"keywordCount": 5}}],
              "allocation": {"default_when_enabled": "keywords-5"}}]},
             "reason": "flags bench"}
            """;
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _control.PutAsync($"/api/agents/{_agentName}/revisions/1/flags", content, cancellationToken);
        if (response.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.OK))
        {
            throw new InvalidOperationException($"Setting the flag set failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        // A kill switch left on by an interrupted run would hide the flag.
        using var restore = await _control.DeleteAsync($"/api/agents/{_agentName}/flags/{_flag}/kill", cancellationToken);
        restore.EnsureSuccessStatusCode();
    }

    private async Task<FlipResult> FlipAsync(bool kill, CancellationToken cancellationToken)
    {
        var expected = kill ? Basic : Enriched;
        Volatile.Write(ref _fence, Stopwatch.GetTimestamp());
        foreach (var agent in _agents)
        {
            agent.Arm(expected, validFrom: long.MaxValue);
        }

        using var request = new HttpRequestMessage(kill ? HttpMethod.Post : HttpMethod.Delete, $"/api/agents/{_agentName}/flags/{_flag}/kill");
        var callStart = Stopwatch.GetTimestamp();
        long version;
        long returned;
        using (var response = await _control.SendAsync(request, cancellationToken))
        {
            // SendAsync buffers the (small) answer before it returns: this is when the call has returned.
            returned = Stopwatch.GetTimestamp();
            response.EnsureSuccessStatusCode();
            using var result = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            version = result.RootElement.GetProperty("version").GetInt64();
        }

        var perAgent = await Task.WhenAll(_agents.Select(agent => ProbeAsync(agent, expected, returned, cancellationToken)));
        Volatile.Write(ref _fence, long.MaxValue);
        var call = Stopwatch.GetElapsedTime(callStart, returned).TotalMilliseconds;
        var propagation = perAgent.Any(p => p is null) ? (double?)null : perAgent.Max(p => p!.Value);

        // Negative: the stream subscriber had the snapshot before the kill call's answer arrived.
        double? streamed = _eventArrivals.TryGetValue(version, out var arrived)
            ? (arrived - returned) * 1000.0 / Stopwatch.Frequency
            : null;
        return new FlipResult(kill, call, propagation, perAgent, streamed);
    }

    /// <summary>Follows the stable track's flag stream (as an agent would) and notes when each version arrives.</summary>
    private async Task WatchStreamAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _stream.GetAsync($"/api/agents/{_agentName}/flags/stream?track=stable", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            await foreach (var item in SseParser.Create(body).EnumerateAsync(cancellationToken))
            {
                if (long.TryParse(item.EventId, NumberStyles.Integer, CultureInfo.InvariantCulture, out var version))
                {
                    _eventArrivals.TryAdd(version, Stopwatch.GetTimestamp());
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run is over.
        }
    }

    /// <summary>Sends requests to one instance until one sent after <paramref name="since"/> shows <paramref name="expected"/>.</summary>
    private async Task<double?> ProbeAsync(AgentTarget agent, string expected, long since, CancellationToken cancellationToken)
    {
        while (Stopwatch.GetElapsedTime(since) < _timeout)
        {
            var behaviour = await PostItemAsync(agent, cancellationToken);
            var end = Stopwatch.GetTimestamp();
            if (behaviour == expected)
            {
                // From here on every request this instance answers must show the new behaviour (checked by the load loops).
                agent.Arm(expected, validFrom: end);
                return Stopwatch.GetElapsedTime(since, end).TotalMilliseconds;
            }
        }

        return null;
    }

    /// <summary>A closed-loop client: the next request as soon as the last one answered.</summary>
    private async Task LoadLoopAsync(AgentTarget agent, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested && await LoadRequestAsync(agent, cancellationToken))
        {
        }
    }

    /// <summary>Open-loop load: <paramref name="rate"/> requests a second whatever the answers take (at most 64 in flight).</summary>
    private async Task PaceAsync(AgentTarget agent, int rate, CancellationToken cancellationToken)
    {
        using var inFlight = new SemaphoreSlim(64);
        var pending = new List<Task>();
        var interval = Stopwatch.Frequency / (double)rate;
        var started = Stopwatch.GetTimestamp();
        try
        {
            for (long n = 0; !cancellationToken.IsCancellationRequested; n++)
            {
                var due = started + (long)(n * interval);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, cancellationToken);
                }

                if (!inFlight.Wait(0, CancellationToken.None))
                {
                    Interlocked.Increment(ref agent.Skipped);
                    continue;
                }

                pending.RemoveAll(t => t.IsCompleted);
                pending.Add(SendAsync());
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run is over.
        }

        await Task.WhenAll(pending);

        async Task SendAsync()
        {
            try
            {
                await LoadRequestAsync(agent, cancellationToken);
            }
            finally
            {
                inFlight.Release();
            }
        }
    }

    /// <summary>One load request, checked against what the instance must answer by now; false once the run is over.</summary>
    private async Task<bool> LoadRequestAsync(AgentTarget agent, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        string? behaviour;
        try
        {
            behaviour = await PostItemAsync(agent, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }

        var end = Stopwatch.GetTimestamp();
        var state = agent.State;
        if (behaviour is null)
        {
            Interlocked.Increment(ref agent.Errors);
        }
        else if (start > state.ValidFrom && end < Volatile.Read(ref _fence) && behaviour != state.Expected)
        {
            Interlocked.Increment(ref _stale);
        }

        Interlocked.Increment(ref agent.Requests);
        return true;
    }

    private async Task<string?> PostItemAsync(AgentTarget agent, CancellationToken cancellationToken)
    {
        try
        {
            using var content = new ByteArrayContent(Item);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await _traffic.PostAsync(agent.Items, content, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
            return json.RootElement.GetProperty("behaviour").GetString();
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private async Task WaitForBehaviourAsync(AgentTarget agent, string expected, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < timeout)
        {
            if (await PostItemAsync(agent, cancellationToken) == expected)
            {
                return;
            }

            await Task.Delay(50, cancellationToken);
        }

        throw new TimeoutException($"{agent.Items} did not serve '{expected}' within {timeout}.");
    }

    private int Report(List<FlipResult> results, int flips, int warmup, int rate, int load, double loadSeconds, string outFile)
    {
        var ok = results.Where(r => r.Propagation is not null).Select(r => r.Propagation!.Value).ToList();
        var timeouts = results.Count - ok.Count;
        var calls = results.Select(r => r.CallMs).ToList();
        var requests = _agents.Sum(a => Interlocked.Read(ref a.Requests));
        var errors = _agents.Sum(a => Interlocked.Read(ref a.Errors));
        var skipped = _agents.Sum(a => Interlocked.Read(ref a.Skipped));

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"flags bench: {_agents.Length} agent instances, each with {rate} req/s open-loop + {load} closed-loop clients; {flips} flips of '{_flag}' (kill/restore, after {warmup} warm-up); {Environment.ProcessorCount} cores"));
        Console.WriteLine(Line("kill call (request → response)", calls));
        Console.WriteLine(Line("stream event at a subscriber, relative to the call's response (negative = before)",
            [.. results.Where(r => r.StreamedMs is not null).Select(r => r.StreamedMs!.Value)]));
        Console.WriteLine(Line("propagation (call returned → every instance serves the new behaviour)", ok));
        for (var i = 0; i < _agents.Length; i++)
        {
            var index = i;
            var per = results.Where(r => r.PerAgent[index] is not null).Select(r => r.PerAgent[index]!.Value).ToList();
            Console.WriteLine(Line($"  instance {_agents[i].Items.Authority}", per));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"load: {requests} requests in {loadSeconds:0.0} s ({requests / loadSeconds:0} req/s), {errors} errors, {skipped} not sent (64 in flight); " +
            $"stale answers after an instance switched: {Interlocked.Read(ref _stale)}; flips that timed out ({_timeout.TotalMilliseconds:0} ms): {timeouts}"));
        var p99 = Percentile(ok, 0.99);
        var pass = timeouts == 0 && Interlocked.Read(ref _stale) == 0 && p99 < 100;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"goal p99 < 100 ms: {(pass ? "PASS" : "FAIL")} (p99 {p99:0.00} ms)"));

        if (outFile.Length > 0)
        {
            static string Ms(double? value) => value?.ToString("0.000", CultureInfo.InvariantCulture) ?? "timeout";
            var lines = results.Select((r, i) =>
                $"{i + 1},{(r.Kill ? "kill" : "restore")},{Ms(r.CallMs)},{Ms(r.StreamedMs)},{Ms(r.Propagation)},{string.Join(",", r.PerAgent.Select(Ms))}");
            File.WriteAllLines(outFile,
                ["flip,action,call_ms,stream_event_vs_response_ms,propagation_ms," + string.Join(",", _agents.Select((_, i) => $"instance{i + 1}_ms")), .. lines]);
        }

        return pass ? 0 : 1;
    }

    private static string Line(string what, List<double> values) => values.Count == 0
        ? $"{what}: no samples"
        : string.Create(CultureInfo.InvariantCulture,
            $"{what} ms: p50 {Percentile(values, 0.50):0.00}  p95 {Percentile(values, 0.95):0.00}  p99 {Percentile(values, 0.99):0.00}  max {values.Max():0.00}  (n={values.Count})");

    /// <summary>Nearest-rank percentile.</summary>
    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        var rank = (int)Math.Ceiling(p * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    private sealed record FlipResult(bool Kill, double CallMs, double? Propagation, double?[] PerAgent, double? StreamedMs);

    /// <summary>What an instance must answer, from when: swapped whole so that load loops read both together.</summary>
    private sealed record Expectation(string Expected, long ValidFrom);

    private sealed class AgentTarget(Uri baseAddress)
    {
        private Expectation _state = new(Enriched, long.MaxValue);

        public long Requests;
        public long Errors;
        public long Skipped;

        public Uri Items { get; } = new(baseAddress, "/api/items");

        public Expectation State => Volatile.Read(ref _state);

        public void Arm(string expected, long validFrom) => Volatile.Write(ref _state, new Expectation(expected, validFrom));
    }
}
