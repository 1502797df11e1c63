using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Durability;

/// <summary>
/// The built RolloutApi.dll as a real process on 127.0.0.1 (a free port), configured like AppHost configures it, that a test
/// can SIGKILL. The build output next to the test assembly is reused: nothing is compiled per run.
/// </summary>
public sealed class RolloutApiProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private RolloutApiProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    public bool HasExited => _process.HasExited;

    public static RolloutApiProcess Start(string databasePath, IDictionary<string, string?>? settings = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "RolloutApi.dll");
        var address = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(address.ToString().TrimEnd('/'));
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Warning";
        start.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = "";

        // Start-up is what a kill test pays for on every iteration: skip tiered-PGO instrumentation and use workstation
        // GC (server GC sets up a heap per core). Cuts start-up by about a quarter here; behaviour is unchanged.
        start.Environment["DOTNET_TieredPGO"] = "0";
        start.Environment["DOTNET_gcServer"] = "0";
        foreach (var (key, value) in RolloutApiFactory.Settings(databasePath))
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = new Process { StartInfo = start };
        var instance = new RolloutApiProcess(process, address);
        process.OutputDataReceived += (_, e) => instance.Append(e.Data);
        process.ErrorDataReceived += (_, e) => instance.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return instance;
    }

    /// <summary>What the process wrote (warnings and errors), for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public HttpClient CreateClient()
    {
        var client = new HttpClient { BaseAddress = Address, Timeout = Deadline.Request };
        client.DefaultRequestHeaders.Add(ServiceDefaults.Contracts.AgentHeaders.ApiKey, RolloutApiFactory.OperatorKey);
        return client;
    }

    /// <summary>Returns once <c>/health</c> answers 200 (the schema is migrated and agents are registered by then).</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"RolloutApi exited with {_process.ExitCode} before it was ready:\n{Output}");
            }

            try
            {
                using var response = await client.GetAsync("/health");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Listening but slow to answer; ask again.
            }

            // Poll interval; readiness (the 200), not this pause, is what the caller waits for.
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }

        throw new TimeoutException($"RolloutApi was not ready within {timeout}:\n{Output}");
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, no disposal; exactly a crash.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }

        await _process.WaitForExitAsync().WaitAsync(Deadline.Request);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
