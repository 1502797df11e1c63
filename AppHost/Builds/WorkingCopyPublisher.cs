using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace AppHost.Builds;

/// <summary>
/// Puts the working copy's agent into the build store: <c>dotnet publish</c> of AgentWorker straight into a staging folder of
/// the store, then a rename to its content hash. The same as the README's shell step, as a dashboard button.
/// </summary>
public sealed partial class WorkingCopyPublisher(BuildStore store, string projectPath, ILogger logger)
{
    public const string CommandName = "builds-store-working-copy";

    /// <summary>
    /// Publishes the working copy (Release) and returns the stored build's id. <paramref name="properties"/> are extra MSBuild
    /// properties (<c>Name=Value</c>), e.g. <c>InformationalVersion=1.2.0-wip</c>.
    /// </summary>
    public async Task<string> PublishAsync(CancellationToken cancellationToken, params IReadOnlyList<string> properties)
    {
        var staging = store.NewStagingFolder();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { "publish", projectPath, "-c", "Release", "-o", staging, "--nologo", "-v", "quiet" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var property in properties)
        {
            start.ArgumentList.Add($"-p:{property}");
        }

        using var process = Process.Start(start) ?? throw new BuildStoreException("Could not start 'dotnet publish'.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        if (process.ExitCode != 0)
        {
            var text = (await output + await errors).Trim();
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }

            throw new BuildStoreException($"dotnet publish failed (exit {process.ExitCode}): {text[^Math.Min(text.Length, 2000)..]}");
        }

        var hash = store.AddInPlace(staging);
        Log.Stored(logger, hash, store.Root);
        return hash;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 8200, Level = LogLevel.Information, Message = "Stored the working copy's agent as build {Build} in {Store}")]
        public static partial void Stored(ILogger logger, string build, string store);
    }
}
