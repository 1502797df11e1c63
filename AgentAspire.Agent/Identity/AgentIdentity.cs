using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace AgentAspire.Agent.Identity;

/// <summary>
/// Who this agent process is right now. Agent, track, build and process are fixed for the life of the process; the
/// version label and revision start from configuration and may be replaced at run time when RolloutApi moves a
/// revision without a build onto this track (local promotion of a label: the stable track takes over the promoted
/// revision's version label without a restart).
/// </summary>
public interface IAgentIdentity
{
    string Agent { get; }

    string Track { get; }

    /// <summary>The version label to stamp on responses, metrics and logs; read it per use, it can change.</summary>
    string Version { get; }

    /// <summary>RolloutApi's revision number this track runs, when known; read it per use, it can change.</summary>
    int? Revision { get; }

    /// <summary>
    /// The build this process runs: <c>Agent:Build</c> when the process was started from a stored build (its content
    /// hash), else the entry assembly's module version id, which changes with every compilation.
    /// </summary>
    string Build { get; }

    /// <summary>This process: unique per start, so that a restart or a second process is visible to a caller.</summary>
    string Instance { get; }

    int ProcessId { get; }

    DateTimeOffset StartedAt { get; }

    /// <summary>Raised after <see cref="Version"/> changed.</summary>
    event Action<string>? VersionChanged;

    /// <summary>Sets the version label (called by whatever learns of a revision change, e.g. the flag stream).</summary>
    void SetVersion(string version);

    /// <summary>Sets the revision number (called with the version label by whatever learns of a revision change).</summary>
    void SetRevision(int revision);
}

/// <summary>The default identity: configuration first, version and revision replaceable at run time.</summary>
public sealed class AgentIdentity : IAgentIdentity
{
    private string _version;
    private int _revision;

    public AgentIdentity(IOptions<AgentIdentityOptions> options, TimeProvider timeProvider)
    {
        var value = options.Value;
        Agent = value.Name;
        Track = value.Track;
        _version = value.Version;
        _revision = value.Revision ?? 0;
        Build = string.IsNullOrWhiteSpace(value.Build) ? EntryAssemblyBuild() : value.Build;
        ProcessId = Environment.ProcessId;
        StartedAt = ProcessStart() ?? timeProvider.GetUtcNow();
        Instance = string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}/{ProcessId}/{StartedAt.ToUnixTimeMilliseconds()}");
    }

    public string Agent { get; }

    public string Track { get; }

    public string Version => Volatile.Read(ref _version);

    public int? Revision => Volatile.Read(ref _revision) is > 0 and var revision ? revision : null;

    public string Build { get; }

    public string Instance { get; }

    public int ProcessId { get; }

    public DateTimeOffset StartedAt { get; }

    public event Action<string>? VersionChanged;

    public void SetVersion(string version)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        if (!string.Equals(Interlocked.Exchange(ref _version, version), version, StringComparison.Ordinal))
        {
            VersionChanged?.Invoke(version);
        }
    }

    public void SetRevision(int revision)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(revision, 1);
        Volatile.Write(ref _revision, revision);
    }

    /// <summary>Every compilation gives the module a new id: two processes with the same id run the same build.</summary>
    private static string EntryAssemblyBuild() =>
        Assembly.GetEntryAssembly()?.ManifestModule.ModuleVersionId.ToString("N")[..12] ?? "unknown";

    private static DateTimeOffset? ProcessStart()
    {
        try
        {
            using var process = Process.GetCurrentProcess();
            return new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }
}
