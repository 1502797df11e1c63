using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AgentAspire.TestSupport;

/// <summary>
/// A built service dll run as a real process on 127.0.0.1 (a free port), its output captured for failure messages, that a
/// test can wait on and SIGKILL. RolloutApi.Tests' RolloutApiProcess and GatewayProcess are this
/// with their own dll and settings.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _name;

    private ServiceProcess(Process process, Uri address, string name)
    {
        _process = process;
        Address = address;
        _name = name;
    }

    public Uri Address { get; }

    public bool HasExited => _process.HasExited;

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

    /// <summary>
    /// Starts <c>dotnet <paramref name="dll"/></c> in Production with warnings-only logging, no OTLP export, and the
    /// settings as environment variables (<c>a:b</c> → <c>a__b</c>; later sources win).
    /// </summary>
    public static ServiceProcess Start(string name, string dll, params IEnumerable<KeyValuePair<string, string?>>[] settings)
    {
        var address = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
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
        foreach (var source in settings)
        {
            foreach (var (key, value) in source)
            {
                start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
            }
        }

        var process = new Process { StartInfo = start };
        var instance = new ServiceProcess(process, address, name);
        process.OutputDataReceived += (_, e) => instance.Append(e.Data);
        process.ErrorDataReceived += (_, e) => instance.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return instance;
    }

    /// <summary>
    /// <c>{project}/bin/{Configuration}/{tfm}/{project}.dll</c>, found from the test assembly's own <c>bin/{Configuration}/{tfm}/</c>.
    /// A test project references such a service project with <c>ReferenceOutputAssembly="false"</c> only to have it built;
    /// its output is run from its own folder, so neither app's files overwrite the other's.
    /// </summary>
    public static string ProjectDll(string project)
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var tfm = testOutput.Name;
        var configuration = testOutput.Parent!.Name;
        var root = testOutput;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "AgentAspire.sln")))
        {
            root = root.Parent;
        }

        var dll = Path.Combine(root?.FullName ?? throw new InvalidOperationException("AgentAspire.sln not found above the test output."),
            project, "bin", configuration, tfm, $"{project}.dll");
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} not found; build the solution first.");
    }

    /// <summary>Returns once <paramref name="path"/> answers 200; throws if the process exits or the time runs out.</summary>
    public async Task WaitOkAsync(string path, TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{_name} exited with {_process.ExitCode} before {path} answered 200:\n{Output}");
            }

            try
            {
                using var response = await client.GetAsync(path);
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

            // Poll interval; the 200, not this pause, is what the caller waits for.
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }

        throw new TimeoutException($"{_name}: {path} did not answer 200 within {timeout}:\n{Output}");
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, no disposal; exactly a crash.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }

        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
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
