using System.Diagnostics;

namespace AppHost.Tests.FirstHour;

/// <summary>External tools the tests run; a missing one fails the test naming it and the script that installs it.</summary>
internal static class Tools
{
    public static string Require(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(directory => Path.Combine(directory, tool))
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException(
            $"'{tool}' is not installed. `dotnet test` installs it with .ci/provision (apt, as root); run that script or install it yourself.");

    /// <summary>Runs a tool to completion within a deadline; returns its exit code and both outputs.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(
        string tool, IEnumerable<string> arguments, string? input, TimeSpan deadline)
    {
        var start = new ProcessStartInfo(Require(tool))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {tool}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
        }

        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(deadline);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} did not finish within {deadline}. Output so far:\n{await output}\n{await error}");
        }

        return (process.ExitCode, await output, await error);
    }
}
