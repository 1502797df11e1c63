using System.Collections.Concurrent;
using System.Diagnostics;
using AppHost.Kubernetes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AppHost.Tests.Kubernetes;

/// <summary>
/// Runs the real AppHost's publish pipeline (<c>--operation publish --step publish</c>) in-process through
/// Aspire.Hosting.Testing, the way <c>dotnet run --project AppHost -- --operation publish ...</c> does.
/// </summary>
public static class AppHostPublish
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    /// <summary>Values for the secret parameters, so that tests can look for them in the output.</summary>
    public const string OperatorKey = "op-key-7d1b4f0a9c2e48d6b3a5";
    public const string ViewerKey = "viewer-key-52e9c07f1ad34b88";

    public const string Registry = "registry.example.com/agentaspire";
    public const string Tag = "1.4.2";

    /// <summary>The arguments of a publish to <paramref name="outputDirectory"/>, with known parameter values.</summary>
    public static string[] Arguments(string outputDirectory, string tag = Tag, params string[] extra) =>
    [
        "--operation", "publish",
        "--step", "publish",
        "--output-path", outputDirectory,
        // Aspire's deployment state (~/.aspire/deployments) would otherwise carry values between runs.
        "--clear-cache", "true",
        $"--Parameters:{KubernetesParameterNames.ImageRegistry}={Registry}",
        $"--Parameters:{KubernetesParameterNames.ImageTag}={tag}",
        $"--Parameters:{ParameterNames.OperatorApiKey}={OperatorKey}",
        $"--Parameters:{ParameterNames.ViewerApiKey}={ViewerKey}",
        .. extra,
    ];

    /// <summary>Publishes; returns the error-level log lines, empty when the publish succeeded.</summary>
    public static async Task<IReadOnlyList<string>> RunAsync(string[] arguments)
    {
        using var cts = new CancellationTokenSource(Deadline);
        var errors = new ErrorCollector();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(arguments, cts.Token).WaitAsync(Deadline);
        builder.Services.AddLogging(logging => logging.AddProvider(errors));
        await using var app = await builder.BuildAsync(cts.Token).WaitAsync(Deadline);
        // In publish mode the host runs the pipeline and stops by itself, whether the steps succeed or fail.
        await app.RunAsync(cts.Token).WaitAsync(Deadline);
        return errors.Messages;
    }

    /// <summary>A fresh, not yet existing, output directory under the temp folder.</summary>
    public static string NewOutputDirectory() =>
        Path.Combine(Path.GetTempPath(), "agentaspire-k8s-" + Guid.NewGuid().ToString("N"));

    /// <summary>Runs a process to completion within the deadline; returns its exit code and combined output.</summary>
    public static async Task<(int ExitCode, string Output)> RunProcessAsync(string fileName, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start.");
        using var cts = new CancellationTokenSource(Deadline);
        var stdout = process.StandardOutput.ReadToEndAsync(cts.Token);
        var stderr = process.StandardError.ReadToEndAsync(cts.Token);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} did not finish within {Deadline}.");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private sealed class ErrorCollector : ILoggerProvider, ILogger
    {
        private readonly ConcurrentQueue<string> _messages = new();

        public IReadOnlyList<string> Messages => [.. _messages];

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                _messages.Enqueue($"{formatter(state, exception)} {exception?.Message}");
            }
        }

        public void Dispose()
        {
        }
    }
}
