using System.Diagnostics;
using System.Net;
using System.Text;

namespace AgentAspire.TestSupport;

/// <summary>
/// A built service dll run as a real process on 127.0.0.1, its output captured for failure messages, that a test can wait
/// on and SIGKILL. RolloutApi.Tests' RolloutApiProcess, GatewayProcess and AgentWorkerProcess are this with their own dll
/// and settings.
/// </summary>
/// <remarks>
/// The process binds port 0 itself and its address is read from Kestrel's "Now listening on" line. Picking a free port
/// here and handing it over is a race: between the probe's release and the child's bind, another test running in
/// parallel can be handed the same port, and then one test's requests and scrapes reach the other test's process (seen:
/// an agent counting 1,518 items more than it answered).
/// </remarks>
public sealed class ServiceProcess : IDisposable
{
    private const string ListeningLine = "Now listening on: ";

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _name;
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServiceProcess(Process process, string name)
    {
        _process = process;
        _name = name;
    }

    /// <summary>Where it listens, once it said so: await <see cref="WaitListeningAsync"/> (or <see cref="WaitOkAsync"/>) first.</summary>
    public Uri Address => _listening.Task.IsCompletedSuccessfully
        ? _listening.Task.Result
        : throw new InvalidOperationException($"{_name} has not said where it listens yet: await WaitListeningAsync or WaitOkAsync first.");

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
    /// Starts <c>dotnet <paramref name="dll"/></c> on 127.0.0.1, port 0, in Production with warnings-only logging (plus the
    /// host's lifetime lines, which say where it listens), no OTLP export, and the settings as environment variables
    /// (<c>a:b</c> → <c>a__b</c>; later sources win).
    /// </summary>
    public static ServiceProcess Start(string name, string dll, params IEnumerable<KeyValuePair<string, string?>>[] settings)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
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

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var instance = new ServiceProcess(process, name);
        process.OutputDataReceived += (_, e) => instance.Append(e.Data);
        process.ErrorDataReceived += (_, e) => instance.Append(e.Data);
        process.Exited += (_, _) => instance._listening.TrySetException(
            new InvalidOperationException($"{name} exited with {process.ExitCode} before it listened:\n{instance.Output}"));
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

    /// <summary>Returns where it listens once Kestrel said so; throws if the process exits first or the time runs out.</summary>
    public async Task<Uri> WaitListeningAsync(TimeSpan timeout)
    {
        try
        {
            return await _listening.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{_name} did not say where it listens within {timeout}:\n{Output}");
        }
    }

    /// <summary>Returns once <paramref name="path"/> answers 200; throws if the process exits or the time runs out.</summary>
    public async Task WaitOkAsync(string path, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        using var client = new HttpClient { BaseAddress = await WaitListeningAsync(timeout), Timeout = TimeSpan.FromSeconds(2) };
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

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        var listening = line.IndexOf(ListeningLine, StringComparison.Ordinal);
        if (listening >= 0 && Uri.TryCreate(line[(listening + ListeningLine.Length)..].Trim(), UriKind.Absolute, out var address))
        {
            _listening.TrySetResult(address);
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
