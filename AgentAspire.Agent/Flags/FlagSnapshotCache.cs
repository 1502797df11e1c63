using System.Text.Json;
using System.Text.Json.Serialization;
using AgentAspire.Agent.Identity;
using AgentAspire.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentAspire.Agent.Flags;

/// <summary>
/// The last-known snapshot on disk, so that an agent restarted while RolloutApi is down still has its flags. Writes
/// go to a temporary file that is renamed over the old one: a reader (or a crash) sees the old file or the new one,
/// never half of one. Nothing here throws; a cache that cannot be read or written is logged and skipped.
/// </summary>
internal sealed class FlagSnapshotCache
{
    private readonly ILogger<FlagSnapshotCache> _logger;

    public FlagSnapshotCache(IOptions<FlagsOptions> options, IAgentIdentity identity, ILogger<FlagSnapshotCache> logger)
    {
        _logger = logger;
        Path = string.IsNullOrWhiteSpace(options.Value.CachePath)
            ? DefaultPath(identity.Agent, identity.Track)
            : System.IO.Path.GetFullPath(options.Value.CachePath);
    }

    public string Path { get; }

    /// <summary>The default location: one file per agent and track under the temp folder.</summary>
    public static string DefaultPath(string agent, string track) =>
        System.IO.Path.Combine(System.IO.Path.GetTempPath(), "agentaspire", "flags", $"{SafeName(agent)}.{SafeName(track)}.json");

    public FlagSnapshot? TryLoad()
    {
        try
        {
            using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var snapshot = JsonSerializer.Deserialize(stream, FlagJsonContext.Default.FlagSnapshot);
            if (snapshot is null)
            {
                FlagsLog.CacheUnreadable(_logger, null, Path);
            }

            return snapshot;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            FlagsLog.CacheMissing(_logger, Path);
            return null;
        }
        #pragma warning disable CA1031 // the cache is an optimisation: an unreadable file of any kind means no cache, never a failed start
        catch (Exception e)
        #pragma warning restore CA1031
        {
            FlagsLog.CacheUnreadable(_logger, e, Path);
            return null;
        }
    }

    public bool TrySave(FlagSnapshot snapshot)
    {
        var temporary = $"{Path}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                JsonSerializer.Serialize(stream, snapshot, FlagJsonContext.Default.FlagSnapshot);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, Path, overwrite: true);
            return true;
        }
        #pragma warning disable CA1031 // the cache is an optimisation: a failed write of any kind is logged and the agent runs on
        catch (Exception e)
        #pragma warning restore CA1031
        {
            FlagsLog.CacheWriteFailed(_logger, e, Path);
            TryDelete(temporary);
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a stray temporary file is harmless and never read.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }

    private static string SafeName(string value)
    {
        var invalid = System.IO.Path.GetInvalidFileNameChars();
        return string.Create(value.Length, value, (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = Array.IndexOf(invalid, source[i]) >= 0 ? '_' : source[i];
            }
        });
    }
}

/// <summary>Source-generated JSON for the flag contract (disk cache and stream).</summary>
[JsonSerializable(typeof(FlagSnapshot))]
internal sealed partial class FlagJsonContext : JsonSerializerContext;
