using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AgentAspire.TestSupport;

/// <summary>
/// Debian's real <c>prometheus</c> or <c>prometheus-alertmanager</c> run as a process on 127.0.0.1 (a free port), from a
/// configuration the test writes, with its data in a temporary directory that goes with it. Output is captured for failure
/// messages. <c>.ci/provision</c> installs both binaries.
/// </summary>
public sealed class MonitoringProcess : IDisposable
{
    public const string PrometheusCommand = "/usr/bin/prometheus";
    public const string AlertmanagerCommand = "/usr/bin/prometheus-alertmanager";

    private readonly Process _process;
    private readonly string _directory;
    private readonly string _name;
    private readonly StringBuilder _output = new();

    private MonitoringProcess(Process process, Uri address, string directory, string name)
    {
        _process = process;
        Address = address;
        _directory = directory;
        _name = name;
    }

    /// <summary>The base address, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri Address { get; }

    /// <summary>The directory holding the configuration and the data; deleted on dispose.</summary>
    public string Directory => _directory;

    /// <summary>What the process wrote, for failure messages.</summary>
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

    /// <summary>Prometheus with this <c>prometheus.yml</c> (write rule files into <see cref="Directory"/> first via <paramref name="files"/>).</summary>
    public static MonitoringProcess StartPrometheus(string configuration, IReadOnlyDictionary<string, string>? files = null) =>
        Start("prometheus", PrometheusCommand, "prometheus.yml", configuration, files, (directory, port) =>
        [
            $"--config.file={Path.Combine(directory, "prometheus.yml")}",
            $"--storage.tsdb.path={Path.Combine(directory, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
        ]);

    /// <summary>Alertmanager with this <c>alertmanager.yml</c>; clustering off (no gossip port to collide on).</summary>
    public static MonitoringProcess StartAlertmanager(string configuration) =>
        Start("alertmanager", AlertmanagerCommand, "alertmanager.yml", configuration, null, (directory, port) =>
        [
            $"--config.file={Path.Combine(directory, "alertmanager.yml")}",
            $"--storage.path={Path.Combine(directory, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ]);

    private static MonitoringProcess Start(
        string name, string command, string configName, string configuration, IReadOnlyDictionary<string, string>? files, Func<string, int, string[]> arguments)
    {
        if (!File.Exists(command))
        {
            throw new InvalidOperationException($"{command} is missing: run .ci/provision (apt-get install prometheus prometheus-alertmanager).");
        }

        var directory = System.IO.Directory.CreateTempSubdirectory($"agentaspire-{name}-").FullName;
        File.WriteAllText(Path.Combine(directory, configName), configuration);
        foreach (var (file, text) in files ?? new Dictionary<string, string>())
        {
            File.WriteAllText(Path.Combine(directory, file), text);
        }

        var port = FreePort();
        var start = new ProcessStartInfo(command)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments(directory, port))
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        var instance = new MonitoringProcess(process, new Uri($"http://127.0.0.1:{port}/"), directory, name);
        process.OutputDataReceived += (_, e) => instance.Append(e.Data);
        process.ErrorDataReceived += (_, e) => instance.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return instance;
    }

    /// <summary>Returns once <c>/-/ready</c> answers 200; throws if the process exits or the time runs out.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{_name} exited with {_process.ExitCode} before it was ready:\n{Output}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri("-/ready", UriKind.Relative));
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
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }

        throw new TimeoutException($"{_name} was not ready within {timeout}:\n{Output}");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open; the temporary directory is the OS's to clean.
        }
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
