using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

/// <summary>
/// A .NET startup hook (<c>DOTNET_STARTUP_HOOKS=GatewayBench.dll</c>) that the bench loads into every .NET contender
/// — the gateway, bare YARP, AgentWorker — without changing them: it answers each connection on 127.0.0.1:
/// <c>BENCH_ALLOC_PORT</c> with the process's bytes allocated so far (<see cref="GC.GetTotalAllocatedBytes(bool)"/>,
/// precise), so the bench divides the difference over a measurement by its requests, followed by the runtime's own
/// counters that explain a latency tail: gen0/1/2 collections, total GC pause (ms), thread-pool threads and completed
/// work items. One blocked thread; no cost between reads.
/// </summary>
/// <remarks>
/// The listener opens only once the app's host is built (the hosting DiagnosticListener's <c>HostBuilt</c> event).
/// Opened earlier, its socket starts the runtime's socket engine before the app's own code runs, and the engine reads
/// its settings (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c>, <c>…_THREAD_COUNT</c>) once, when it starts: the
/// gateway sets them for its own process while it registers its services, so an early listener silently measured the
/// gateway without them.
/// </remarks>
#pragma warning disable CA1050 // The runtime looks the hook up by this exact global name.
internal static class StartupHook
#pragma warning restore CA1050
{
    private static IDisposable? s_subscription;

    public static void Initialize()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable("BENCH_ALLOC_PORT"), out var port))
        {
            return;
        }

        s_subscription = DiagnosticListener.AllListeners.Subscribe(new Observer<DiagnosticListener>(listener =>
        {
            if (listener.Name == "Microsoft.Extensions.Hosting")
            {
                listener.Subscribe(new Observer<KeyValuePair<string, object?>>(e =>
                {
                    if (e.Key == "HostBuilt" && Interlocked.Exchange(ref s_subscription, null) is { } subscription)
                    {
                        subscription.Dispose();
                        Listen(port);
                    }
                }));
            }
        }));
    }

    private static void Listen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        new Thread(() =>
        {
            while (true)
            {
                using var client = listener.AcceptTcpClient();
                var answer = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
                    $"{GC.GetTotalAllocatedBytes(precise: true)} {GC.CollectionCount(0)} {GC.CollectionCount(1)} {GC.CollectionCount(2)} " +
                    $"{GC.GetTotalPauseDuration().TotalMilliseconds:F3} {ThreadPool.ThreadCount} {ThreadPool.CompletedWorkItemCount}\n"));
                client.GetStream().Write(answer);
            }
        })
        { IsBackground = true, Name = "bench-alloc-counter" }.Start();
    }

    private sealed class Observer<T>(Action<T> next) : IObserver<T>
    {
        public void OnNext(T value) => next(value);

        public void OnError(Exception error)
        {
        }

        public void OnCompleted()
        {
        }
    }
}
