namespace AppHost.Tests.FirstHour;

/// <summary>
/// <c>.ci/provision</c>, which <c>dotnet test</c> runs before every test project, on a machine where a tool is missing:
/// it installs it with apt, or fails naming the tool and what to do; it never passes silently. Each case runs the real
/// script with bash on a PATH of its own: the real tools minus the one that is "missing", and, where a case needs a
/// machine that is not this one (not root, no apt), a stand-in for <c>id</c> or <c>apt-get</c>.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // .ci/provision is a bash script for Debian; Windows is not a target.
public sealed class ProvisionTests : IDisposable
{
    // What the script checks for, and the Debian package each comes from (as in .ci/provision).
    private static readonly Dictionary<string, string> Packages = new()
    {
        ["kubectl"] = "kubectl kubernetes-client",
        ["promtool"] = "prometheus",
        ["prometheus"] = "prometheus",
        ["prometheus-alertmanager"] = "prometheus-alertmanager",
        ["chromium"] = "chromium",
        ["curl"] = "curl",
    };

    // What the script itself runs besides the tools.
    private static readonly string[] Utilities = ["sort", "tr", "flock", "chmod", "mktemp", "grep", "tail", "rm"];

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private readonly DirectoryInfo _bin = Directory.CreateTempSubdirectory("agentaspire-provision-");

    public void Dispose() => _bin.Delete(recursive: true);

    [Fact]
    public async Task With_every_tool_present_it_exits_0_and_says_nothing()
    {
        LinkRealTools(except: null);
        FakeId(uid: 0);

        var (exitCode, _, error) = await RunProvisionAsync();

        Assert.True(exitCode == 0, $"exit {exitCode}: {error}");
        Assert.Equal("", error);
    }

    [Theory]
    [InlineData("kubectl", "kubectl")]
    [InlineData("promtool", "prometheus")]
    [InlineData("chromium", "chromium")]
    public async Task A_missing_tool_is_installed_with_apt_from_its_package(string tool, string package)
    {
        LinkRealTools(except: tool);
        FakeId(uid: 0);
        // apt-get as on a machine without the tool: it records what it was asked and puts the tool on the PATH.
        var calls = Path.Combine(_bin.FullName, "apt-get.calls");
        Script("apt-get", $"""
            echo "$*" >> '{calls}'
            [ "$1" = install ] && printf '#!/bin/sh\nexit 0\n' > '{Path.Combine(_bin.FullName, tool)}' && chmod +x '{Path.Combine(_bin.FullName, tool)}'
            exit 0
            """);

        var (exitCode, _, error) = await RunProvisionAsync();

        Assert.True(exitCode == 0, $"exit {exitCode}: {error}");
        var install = Assert.Single(File.ReadAllLines(calls));
        Assert.StartsWith("install ", install, StringComparison.Ordinal);
        Assert.Contains($" {package}", install, StringComparison.Ordinal);
        Assert.Contains($"missing {tool}", error, StringComparison.Ordinal);
        Assert.Contains($"installed {package}", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tool_apt_cannot_provide_fails_the_run_naming_the_tool_and_its_package()
    {
        LinkRealTools(except: "kubectl");
        FakeId(uid: 0);
        // apt-get as on a machine whose sources lack the package: it fails, before and after an index refresh.
        Script("apt-get", "echo \"E: Unable to locate package $3\" >&2; [ \"$1\" = update ] && exit 0; exit 100");

        var (exitCode, _, error) = await RunProvisionAsync();

        Assert.Equal(1, exitCode);
        Assert.Contains("FAILED to install 'kubectl' (apt packages tried: kubectl kubernetes-client; apt said: E: Unable to locate package", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Where_apt_has_no_kubectl_package_it_installs_Debians_kubernetes_client()
    {
        LinkRealTools(except: "kubectl");
        FakeId(uid: 0);
        // Debian's own sources: no package named kubectl; kubernetes-client brings /usr/bin/kubectl.
        var calls = Path.Combine(_bin.FullName, "apt-get.calls");
        var kubectl = Path.Combine(_bin.FullName, "kubectl");
        Script("apt-get", $"""
            echo "$*" >> '{calls}'
            case "$*" in
              *kubernetes-client*) printf '#!/bin/sh\nexit 0\n' > '{kubectl}' && chmod +x '{kubectl}'; exit 0 ;;
              update*) exit 0 ;;
              *) echo "E: Package 'kubectl' has no installation candidate" >&2; exit 100 ;;
            esac
            """);

        var (exitCode, _, error) = await RunProvisionAsync();

        Assert.True(exitCode == 0, $"exit {exitCode}: {error}");
        Assert.Contains("installed kubernetes-client", error, StringComparison.Ordinal);
        Assert.Contains(File.ReadAllLines(calls), call => call.StartsWith("update", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_root_or_sudo_it_fails_naming_the_tool_and_the_command_to_run()
    {
        LinkRealTools(except: "promtool");
        FakeId(uid: 1000);

        var (exitCode, _, error) = await RunProvisionAsync();

        Assert.Equal(1, exitCode);
        Assert.Contains("missing promtool", error, StringComparison.Ordinal);
        Assert.Contains("not root and no password-less sudo", error, StringComparison.Ordinal);
        Assert.Contains("apt-get install prometheus", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_apt_it_fails_naming_the_tools_to_install()
    {
        LinkRealTools(except: "kubectl");
        FakeId(uid: 0);

        var (exitCode, _, error) = await RunProvisionAsync();

        Assert.Equal(1, exitCode);
        Assert.Contains("no apt-get on this machine; install these tools yourself: kubectl", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dotnet_test_runs_the_script_before_every_test_project_and_fails_with_it()
    {
        // Directory.Build.targets: the README's `dotnet test` provisions first, and a failed provision fails the run.
        var targets = File.ReadAllText(Path.Combine(Repository.Root, "Directory.Build.targets"));
        Assert.Matches("""<Target Name="ProvisionTestTools" BeforeTargets="VSTest" Condition="'\$\(IsTestProject\)' == 'true'""", targets);
        Assert.Contains(".ci/provision", targets, StringComparison.Ordinal);
        Assert.DoesNotContain("ContinueOnError", targets, StringComparison.Ordinal);
    }

    private async Task<(int ExitCode, string Output, string Error)> RunProvisionAsync() =>
        await Tools.RunAsync("env", ["-i", $"PATH={_bin.FullName}", Tools.Require("bash"), Path.Combine(Repository.Root, ".ci", "provision")],
            input: null, Deadline);

    private void LinkRealTools(string? except)
    {
        foreach (var tool in Packages.Keys.Where(t => t != except).Concat(Utilities))
        {
            File.CreateSymbolicLink(Path.Combine(_bin.FullName, tool), Tools.Require(tool));
        }
    }

    // `id -u` decides between installing (root), sudo and giving up.
    private void FakeId(int uid) => Script("id", $"echo {uid}");

    private void Script(string name, string body)
    {
        var path = Path.Combine(_bin.FullName, name);
        File.WriteAllText(path, $"#!{Tools.Require("bash")}\n{body}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}

/// <summary>The repository the tests were built from.</summary>
internal static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "AgentAspire.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (with AgentAspire.sln) was not found above the test binaries.");
    }
}
