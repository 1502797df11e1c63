using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace AppHost.Local;

/// <summary>
/// The agent as the source tree last built it (<c>AgentWorker/bin/&lt;configuration&gt;/&lt;tfm&gt;</c>): what a track runs
/// when its revision names no stored build, as <c>dotnet run</c> would run it.
/// </summary>
public sealed class WorkingCopy(string projectPath)
{
    /// <summary>The AgentWorker project directory: the content root (appsettings.json) of a working-copy track.</summary>
    public string ProjectDirectory { get; } = Path.GetDirectoryName(Path.GetFullPath(projectPath))!;

    /// <summary>The built entry assembly, in the configuration and framework the AppHost itself was built with.</summary>
    public string EntryAssembly => Path.Combine(ProjectDirectory, "bin", Configuration, TargetFramework, "AgentWorker.dll");

    /// <summary>
    /// The build id the agent reports for this output (<c>X-Agent-Build</c>): its module version id, which every compilation
    /// changes. Read at each launch, since the working copy can be rebuilt while the app runs.
    /// </summary>
    public string BuildId()
    {
        var path = EntryAssembly;
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The working copy's agent is not built: {path} is missing (dotnet build AgentWorker).", path);
        }

        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        var mvid = metadata.GetGuid(metadata.GetModuleDefinition().Mvid);
        // The agent shortens its module id the same way (AgentAspire.Agent's AgentIdentity).
        return mvid.ToString("N")[..12];
    }

    private static string Configuration =>
        typeof(WorkingCopy).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    private static string TargetFramework => $"net{Environment.Version.Major}.{Environment.Version.Minor}";
}
