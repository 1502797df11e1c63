using Microsoft.Extensions.Options;

namespace ServiceDefaults;

/// <summary>
/// Who this agent process is right now. Agent and track are fixed by configuration; the version label starts from
/// configuration and may be replaced at run time when RolloutApi moves a revision onto this track (local promotion:
/// the stable track takes over the promoted revision's version label without a restart).
/// </summary>
public interface IAgentIdentity
{
    string Agent { get; }

    string Track { get; }

    /// <summary>The version label to stamp on responses, metrics and logs; read it per use, it can change.</summary>
    string Version { get; }

    /// <summary>Raised after <see cref="Version"/> changed.</summary>
    event Action<string>? VersionChanged;

    /// <summary>Sets the version label (called by whatever learns of a revision change, e.g. the flag stream).</summary>
    void SetVersion(string version);
}

/// <summary>The default identity: configuration first, version replaceable at run time.</summary>
public sealed class AgentIdentity : IAgentIdentity
{
    private string _version;

    public AgentIdentity(IOptions<AgentIdentityOptions> options)
    {
        Agent = options.Value.Name;
        Track = options.Value.Track;
        _version = options.Value.Version;
    }

    public string Agent { get; }

    public string Track { get; }

    public string Version => Volatile.Read(ref _version);

    public event Action<string>? VersionChanged;

    public void SetVersion(string version)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        if (!string.Equals(Interlocked.Exchange(ref _version, version), version, StringComparison.Ordinal))
        {
            VersionChanged?.Invoke(version);
        }
    }
}
