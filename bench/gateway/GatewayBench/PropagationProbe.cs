using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using AgentAspire.Contracts;

namespace GatewayBench;

/// <summary>
/// Measures how long a weight change takes to reach the traffic: hosts the two track backends (each remembers the
/// moment of its last request), keeps the gateway under load, and flips the weight between 0 and 10,000 through the
/// control plane's <c>PUT /api/agents/{agent}/weight</c>. Per flip, the lag is the last request the old track
/// received minus the moment the PUT returned (0 if none came after it): an upper bound on when the gateway stopped
/// routing by the old weight, since it includes the gateway-to-backend hop of requests already in flight.
/// </summary>
internal static class PropagationProbe
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(40);
    private static readonly TimeSpan FlipDeadline = TimeSpan.FromSeconds(2);

    public static async Task<int> RunAsync(Arguments args)
    {
        var gateway = new Uri(args.Require("gateway"));
        var control = new Uri(args.Require("control"));
        var key = args.Get("key", "");
        var agent = args.Get("agent", ResourceNames.DefaultAgent);
        var flips = args.Int("flips", 100);
        var concurrency = args.Int("concurrency", 16);
        var stablePort = args.Int("stable-port", 18181);
        var canaryPort = args.Int("canary-port", 18182);

        var backends = new TrackBackends();
        await using var backendApp = await backends.StartAsync(stablePort, canaryPort);

        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, MaxConnectionsPerServer = 1024 }) { Timeout = TimeSpan.FromSeconds(10) };
        using var controlClient = new HttpClient { BaseAddress = control, Timeout = TimeSpan.FromSeconds(10) };
        if (key.Length > 0)
        {
            controlClient.DefaultRequestHeaders.Add(AgentHeaders.ApiKey, key);
        }

        await WaitForGatewayAsync(http, gateway);
        await SetWeightAsync(controlClient, agent, Weights.Min);

        using var stop = new CancellationTokenSource();
        long requests = 0, failures = 0;
        var load = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            var target = new Uri(gateway, "/work");
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await http.GetAsync(target, stop.Token);
                    Interlocked.Increment(ref requests);
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToArray();

        // Warm up under load before measuring.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var started = Stopwatch.GetTimestamp();
        var requestsAtStart = Interlocked.Read(ref requests);
        var lags = new List<double>(flips);
        var stuck = 0;
        for (var i = 0; i < flips; i++)
        {
            var weight = i % 2 == 0 ? Weights.Max : Weights.Min;
            var oldTrack = weight == Weights.Max ? 0 : 1;
            await SetWeightAsync(controlClient, agent, weight);
            var returned = Stopwatch.GetTimestamp();

            // Settled: the new track has been hit after the PUT and the old one has been quiet for a while.
            while (true)
            {
                var now = Stopwatch.GetTimestamp();
                var lastOld = backends.LastHit(oldTrack);
                var lastNew = backends.LastHit(1 - oldTrack);
                if (lastNew > returned && Stopwatch.GetElapsedTime(lastOld, now) >= Quiet)
                {
                    break;
                }

                if (Stopwatch.GetElapsedTime(returned, now) > FlipDeadline)
                {
                    stuck++;
                    break;
                }

                await Task.Delay(2);
            }

            var last = backends.LastHit(oldTrack);
            lags.Add(last > returned ? Stopwatch.GetElapsedTime(returned, last).TotalMilliseconds : 0);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var loadRequests = Interlocked.Read(ref requests) - requestsAtStart;
        await stop.CancelAsync();
        await Task.WhenAll(load);

        lags.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"propagation: flips={flips} p50={Pct(lags, 0.50):F2}ms p90={Pct(lags, 0.90):F2}ms p99={Pct(lags, 0.99):F2}ms max={lags[^1]:F2}ms stuck={stuck} " +
            $"load={loadRequests / elapsed.TotalSeconds:F0}req/s concurrency={concurrency} failures={Interlocked.Read(ref failures)}"));
        return stuck == 0 ? 0 : 1;
    }

    private static double Pct(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];

    private static async Task SetWeightAsync(HttpClient control, string agent, int weight)
    {
        using var response = await control.PutAsJsonAsync($"/api/agents/{agent}/weight", new { weight });
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"PUT weight {weight} → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    private static async Task WaitForGatewayAsync(HttpClient http, Uri gateway)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                using var doc = JsonDocument.Parse(await http.GetStringAsync(new Uri(gateway, "/gateway/routing")));
                if (doc.RootElement.GetProperty("streamConnected").GetBoolean())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("the gateway did not connect to its routing stream within 60 s");
    }

    /// <summary>Two listeners standing in for the tracks; each remembers when it last served a request.</summary>
    private sealed class TrackBackends
    {
        private readonly long[] _lastHit = new long[2 * 8]; // stable at 0, canary at 8: separate cache lines

        public long LastHit(int track) => Volatile.Read(ref _lastHit[track * 8]);

        // Keep the latest timestamp even when a slower thread records an earlier one afterwards.
        private static void Record(ref long slot, long timestamp)
        {
            var seen = Volatile.Read(ref slot);
            while (timestamp > seen)
            {
                var previous = Interlocked.CompareExchange(ref slot, timestamp, seen);
                if (previous == seen)
                {
                    return;
                }

                seen = previous;
            }
        }

        public async Task<WebApplication> StartAsync(int stablePort, int canaryPort)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls($"http://127.0.0.1:{stablePort}", $"http://127.0.0.1:{canaryPort}");
            var app = builder.Build();
            app.Run(context =>
            {
                var track = context.Connection.LocalPort == canaryPort ? 1 : 0;
                Record(ref _lastHit[track * 8], Stopwatch.GetTimestamp());
                return context.Response.WriteAsync(track == 1 ? Tracks.Canary : Tracks.Stable);
            });
            await app.StartAsync();
            return app;
        }
    }
}
