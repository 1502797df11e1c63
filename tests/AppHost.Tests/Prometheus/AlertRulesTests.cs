using System.Diagnostics;

namespace AppHost.Tests.Prometheus;

/// <summary>
/// The use case's alert as Prometheus rules (<c>AppHost/Prometheus/agentaspire-alerts.yml</c>), checked and unit-tested by
/// Prometheus' own <c>promtool</c>: the rules parse, a 20 %-failing canary fires, equal tracks do not. promtool is required:
/// without it this test fails and says how to install it (it never skips).
/// </summary>
public sealed class AlertRulesTests
{
    public const string Promtool = "promtool";

    [Fact]
    public async Task Promtool_checks_the_alert_rules()
    {
        var (exit, output) = await RunAsync("check", "rules", Path.Combine(PrometheusDirectory, "agentaspire-alerts.yml"));
        Assert.True(exit == 0, output);
        Assert.Contains("SUCCESS: 2 rules found", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Promtool_unit_tests_fire_on_a_failing_canary_and_stay_quiet_on_equal_tracks()
    {
        var (exit, output) = await RunAsync("test", "rules", Path.Combine(PrometheusDirectory, "agentaspire-alerts.test.yml"));
        Assert.True(exit == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    internal static string PrometheusDirectory
    {
        get
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "AgentAspire.sln")))
            {
                root = root.Parent;
            }

            return Path.Combine(root?.FullName ?? throw new InvalidOperationException("AgentAspire.sln not found above the test output."), "AppHost", "Prometheus");
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Promtool) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = PrometheusDirectory };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            Assert.Fail($"'{Promtool}' is required to check the alert rules and was not found on PATH ({ex.Message}). " +
                "Install it: apt-get install prometheus (Debian) — or run the self-provisioning test command.");
            throw;
        }

        using (process)
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
            var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
            await process.WaitForExitAsync(deadline.Token);
            return (process.ExitCode, await stdout + await stderr);
        }
    }
}
