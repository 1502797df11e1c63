using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;

namespace GatewayBench;

/// <summary>
/// An open-loop, constant-rate load generator (what wrk2 does, which Debian does not ship): request i is due at
/// start + i/rate whether or not earlier ones have answered, and its latency is counted from that due time, so a
/// proxy that stalls is charged for every request queued behind the stall (no coordinated omission). A closed-loop
/// tool such as <c>hey -q</c> waits for each answer before sending its worker's next request and hides exactly that.
/// </summary>
/// <remarks>
/// The sender thread wakes every ~50 µs (usleep) and sends whatever is due: sends are late by at most a wake-up,
/// on every contender alike, without spinning a core that the proxy under test needs. Output: one line,
/// <c>rate R sent N ok N errors E achieved_rps X p50_ms .. p99_ms .. p999_ms .. max_ms ..</c>.
/// </remarks>
internal static partial class OpenLoopLoad
{
    public static async Task<int> RunAsync(Arguments args)
    {
        var url = new Uri(args.Require("url"));
        var rate = args.Int("rate", 1000);
        var seconds = args.Int("duration", 10);
        var warmup = args.Int("warmup", 2);
        var connections = args.Int("connections", 256);
        var body = args.Get("body", "");

        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            // No activity, no traceparent: the client is not traced, as wrk is not.
            ActivityHeadersPropagator = null,
        };
        using var invoker = new HttpMessageInvoker(handler);
        var content = body.Length == 0 ? null : Encoding.UTF8.GetBytes(body);

        if (warmup > 0)
        {
            await RunAtRateAsync(invoker, url, content, rate, warmup);
        }

        var result = await RunAtRateAsync(invoker, url, content, rate, seconds);
        Console.WriteLine(result);
        return result.Errors == 0 ? 0 : 1;
    }

    private static async Task<Result> RunAtRateAsync(HttpMessageInvoker invoker, Uri url, byte[]? body, int rate, int seconds)
    {
        var total = rate * seconds;
        var latencies = new long[total];
        var pending = new Task[total];
        var errors = 0;
        var frequency = Stopwatch.Frequency;
        var start = Stopwatch.GetTimestamp();

        var sender = new Thread(() =>
        {
            for (var i = 0; i < total;)
            {
                var due = (long)((Stopwatch.GetTimestamp() - start) * (double)rate / frequency) + 1;
                for (; i < total && i < due; i++)
                {
                    var index = i;
                    var intended = start + (long)(index * (double)frequency / rate);
                    pending[index] = SendAsync(invoker, url, body, intended, latencies, index, () => Interlocked.Increment(ref errors));
                }

                _ = Usleep(50);
            }
        })
        { IsBackground = true, Name = "open-loop-sender", Priority = ThreadPriority.AboveNormal };
        sender.Start();
        sender.Join();
        var finished = Stopwatch.GetTimestamp();

        // Whatever has not answered 10 s after the last send counts as an error.
        await Task.WhenAny(Task.WhenAll(pending), Task.Delay(TimeSpan.FromSeconds(10)));
        var completed = 0;
        for (var i = 0; i < total; i++)
        {
            if (!pending[i].IsCompleted)
            {
                Interlocked.Increment(ref errors);
            }
            else if (latencies[i] > 0)
            {
                latencies[completed++] = latencies[i];
            }
        }

        var done = latencies[..completed];
        Array.Sort(done);
        double Ms(double quantile) => done.Length == 0 ? double.NaN
            : done[Math.Clamp((int)Math.Ceiling(quantile * done.Length) - 1, 0, done.Length - 1)] * 1000.0 / frequency;
        return new Result(rate, total, completed, errors, total / ((finished - start) / (double)frequency),
            Ms(0.50), Ms(0.99), Ms(0.999), Ms(1.0));
    }

    private static async Task SendAsync(HttpMessageInvoker invoker, Uri url, byte[]? body, long intended, long[] latencies, int index, Action error)
    {
        try
        {
            using var request = new HttpRequestMessage(body is null ? HttpMethod.Get : HttpMethod.Post, url) { Version = HttpVersion.Version11 };
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = new("application/json");
            }

            using var response = await invoker.SendAsync(request, CancellationToken.None);
            await response.Content.CopyToAsync(Stream.Null);
            if (!response.IsSuccessStatusCode)
            {
                error();
                return;
            }

            latencies[index] = Math.Max(1, Stopwatch.GetTimestamp() - intended);
        }
        catch (HttpRequestException)
        {
            error();
        }
    }

    [LibraryImport("libc", EntryPoint = "usleep")]
    private static partial int Usleep(uint microseconds);

    private sealed record Result(int Rate, int Sent, int Ok, int Errors, double AchievedRps, double P50, double P99, double P999, double Max)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"rate {Rate} sent {Sent} ok {Ok} errors {Errors} achieved_rps {AchievedRps:F0} p50_ms {P50:F3} p99_ms {P99:F3} p999_ms {P999:F3} max_ms {Max:F3}");
    }
}
