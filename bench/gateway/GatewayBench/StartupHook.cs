using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

/// <summary>
/// A .NET startup hook (<c>DOTNET_STARTUP_HOOKS=GatewayBench.dll</c>) that the bench loads into every .NET contender
/// — the gateway, bare YARP, AgentWorker — without changing them: it answers each connection on 127.0.0.1:
/// <c>BENCH_ALLOC_PORT</c> with the process's bytes allocated so far (<see cref="GC.GetTotalAllocatedBytes(bool)"/>,
/// precise), so the bench divides the difference over a measurement by its requests. One blocked thread; no cost
/// between reads.
/// </summary>
#pragma warning disable CA1050 // The runtime looks the hook up by this exact global name.
internal static class StartupHook
#pragma warning restore CA1050
{
    public static void Initialize()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable("BENCH_ALLOC_PORT"), out var port))
        {
            return;
        }

        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        new Thread(() =>
        {
            while (true)
            {
                using var client = listener.AcceptTcpClient();
                var answer = Encoding.ASCII.GetBytes(GC.GetTotalAllocatedBytes(precise: true).ToString(CultureInfo.InvariantCulture) + "\n");
                client.GetStream().Write(answer);
            }
        })
        { IsBackground = true, Name = "bench-alloc-counter" }.Start();
    }
}
