using System.Text.Json;
using AgentAspire.Agent.Identity;
using AgentAspire.Contracts;
using Microsoft.Extensions.Logging;

namespace AgentAspire.Agent.Flags;

/// <summary>Where the flags in force came from.</summary>
public enum FlagSource
{
    /// <summary>No snapshot yet: the agent's own <c>feature_management</c> configuration.</summary>
    Defaults,

    /// <summary>The last snapshot kept on disk, loaded at start while RolloutApi has not answered yet.</summary>
    LastKnown,

    /// <summary>A snapshot RolloutApi sent on this run.</summary>
    Remote,
}

/// <summary>What <see cref="IFlagSnapshotStore.Apply"/> did with a snapshot.</summary>
public enum FlagApplyResult
{
    /// <summary>The snapshot is now in force.</summary>
    Applied,

    /// <summary>The snapshot was not newer than the one in force (it may still have confirmed it, see <see cref="FlagSource"/>).</summary>
    Unchanged,

    /// <summary>The snapshot was malformed or meant for another agent or track; the flags in force stay.</summary>
    Rejected,
}

/// <summary>
/// The flag set in force for this agent and track: the local defaults until a snapshot arrives, then exactly that
/// snapshot. Reads are lock-free; a new snapshot is swapped in whole.
/// </summary>
public interface IFlagSnapshotStore
{
    /// <summary>The snapshot in force, or null while the local defaults are.</summary>
    FlagSnapshot? Current { get; }

    FlagSource Source { get; }

    /// <summary>
    /// Puts <paramref name="snapshot"/> in force if it is well-formed, meant for this agent and track, and newer than the
    /// one in force. An <paramref name="authoritative"/> snapshot (the first one on a new stream connection) also
    /// replaces a newer one, because RolloutApi's state may have been reset; it never throws.
    /// </summary>
    FlagApplyResult Apply(FlagSnapshot snapshot, FlagSource source, bool authoritative = false);
}

/// <summary>One immutable state of the store; <see cref="Definitions"/> is null while the local defaults are in force.</summary>
internal sealed record FlagState(FlagSnapshot? Snapshot, FlagSource Source, FlagDefinitions? Definitions, long Generation)
{
    public static readonly FlagState Defaults = new(null, FlagSource.Defaults, null, 0);
}

/// <summary>The default <see cref="IFlagSnapshotStore"/>: one reference swapped under a writer lock, read without one.</summary>
internal sealed class FlagStore(IAgentIdentity identity, ILogger<FlagStore> logger) : IFlagSnapshotStore
{
    private readonly Lock _writeLock = new();
    private FlagState _state = FlagState.Defaults;

    public FlagState State => Volatile.Read(ref _state);

    public FlagSnapshot? Current => State.Snapshot;

    public FlagSource Source => State.Source;

    public FlagApplyResult Apply(FlagSnapshot snapshot, FlagSource source, bool authoritative = false)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (Mismatch(snapshot) is { } reason)
        {
            FlagsLog.SnapshotRejected(logger, snapshot.Version, source, reason, Source);
            return FlagApplyResult.Rejected;
        }

        lock (_writeLock)
        {
            var current = _state;
            if (current.Snapshot is { } held && !IsNewer(snapshot, held, authoritative))
            {
                // The same flags confirmed by RolloutApi: nothing to swap, but they are no longer merely last-known.
                if (source == FlagSource.Remote && current.Source != FlagSource.Remote && snapshot.Version == held.Version)
                {
                    Volatile.Write(ref _state, current with { Source = FlagSource.Remote });
                }

                return FlagApplyResult.Unchanged;
            }

            FlagDefinitions definitions;
            try
            {
                definitions = FlagDefinitions.Parse(snapshot.FeatureManagement);
            }
            #pragma warning disable CA1031 // a snapshot the library cannot parse, whatever it throws, is rejected and the last good one kept
            catch (Exception e)
            #pragma warning restore CA1031
            {
                FlagsLog.SnapshotMalformed(logger, e, snapshot.Version, source, current.Source);
                return FlagApplyResult.Rejected;
            }

            if (current.Snapshot is { } previous && snapshot.Version < previous.Version)
            {
                FlagsLog.SnapshotRewound(logger, previous.Version, snapshot.Version);
            }

            Volatile.Write(ref _state, new FlagState(snapshot, source, definitions, current.Generation + 1));
            FlagsLog.SnapshotApplied(logger, snapshot.Version, snapshot.Revision, snapshot.VersionLabel, source, definitions.Count);

            // Local promotion: the stable track takes over the promoted revision's version label with its flags.
            if (!string.IsNullOrWhiteSpace(snapshot.VersionLabel))
            {
                identity.SetVersion(snapshot.VersionLabel);
                if (snapshot.Revision is { } revision and > 0)
                {
                    identity.SetRevision(revision);
                }
            }
        }

        return FlagApplyResult.Applied;
    }

    private string? Mismatch(FlagSnapshot snapshot)
    {
        if (!string.Equals(snapshot.Agent, identity.Agent, StringComparison.Ordinal))
        {
            return $"it is for agent '{snapshot.Agent}', not '{identity.Agent}'";
        }

        if (!string.Equals(snapshot.Track, identity.Track, StringComparison.Ordinal))
        {
            return $"it is for track '{snapshot.Track}', not '{identity.Track}'";
        }

        if (snapshot.FeatureManagement.ValueKind != JsonValueKind.Object)
        {
            return $"'{FlagSchema.Section}' is {snapshot.FeatureManagement.ValueKind}, not an object";
        }

        return snapshot.Version < 0 ? "its version is negative" : null;
    }

    private static bool IsNewer(FlagSnapshot candidate, FlagSnapshot held, bool authoritative) =>
        authoritative
            ? candidate.Version != held.Version || !SameContent(candidate, held)
            : candidate.Version > held.Version;

    private static bool SameContent(FlagSnapshot a, FlagSnapshot b) =>
        a.Revision == b.Revision
        && string.Equals(a.VersionLabel, b.VersionLabel, StringComparison.Ordinal)
        && JsonElement.DeepEquals(a.FeatureManagement, b.FeatureManagement);
}
