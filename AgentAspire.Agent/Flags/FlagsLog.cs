using Microsoft.Extensions.Logging;

namespace AgentAspire.Agent.Flags;

/// <summary>Source-generated log messages of the flag provider, in one place so the event ids stay unique.</summary>
internal static partial class FlagsLog
{
    [LoggerMessage(EventId = 4500, Level = LogLevel.Information,
        Message = "Flags version {Version} (revision {Revision}, version label {VersionLabel}) from {Source} are in force: {Count} flag(s).")]
    public static partial void SnapshotApplied(ILogger logger, long version, int? revision, string? versionLabel, FlagSource source, int count);

    [LoggerMessage(EventId = 4501, Level = LogLevel.Warning,
        Message = "Ignored flag snapshot version {Version} from {Source}: {Reason}. The {InForce} flags stay in force.")]
    public static partial void SnapshotRejected(ILogger logger, long version, FlagSource source, string reason, FlagSource inForce);

    [LoggerMessage(EventId = 4502, Level = LogLevel.Warning,
        Message = "Ignored malformed flag snapshot version {Version} from {Source}. The {InForce} flags stay in force.")]
    public static partial void SnapshotMalformed(ILogger logger, Exception exception, long version, FlagSource source, FlagSource inForce);

    [LoggerMessage(EventId = 4503, Level = LogLevel.Warning,
        Message = "RolloutApi's flag version went back from {Previous} to {Version} (its state was reset?); applying what it sends now.")]
    public static partial void SnapshotRewound(ILogger logger, long previous, long version);

    [LoggerMessage(EventId = 4510, Level = LogLevel.Information, Message = "Loaded last-known flags version {Version} from {Path}.")]
    public static partial void CacheLoaded(ILogger logger, long version, string path);

    [LoggerMessage(EventId = 4511, Level = LogLevel.Debug, Message = "No last-known flags at {Path}.")]
    public static partial void CacheMissing(ILogger logger, string path);

    [LoggerMessage(EventId = 4512, Level = LogLevel.Warning, Message = "Ignored unreadable last-known flags at {Path}.")]
    public static partial void CacheUnreadable(ILogger logger, Exception? exception, string path);

    [LoggerMessage(EventId = 4513, Level = LogLevel.Warning,
        Message = "Could not write last-known flags to {Path}; a restart while RolloutApi is down would start from older flags.")]
    public static partial void CacheWriteFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(EventId = 4520, Level = LogLevel.Information, Message = "Flag stream from {RolloutApi} connected.")]
    public static partial void StreamConnected(ILogger logger, string rolloutApi);

    [LoggerMessage(EventId = 4521, Level = LogLevel.Warning,
        Message = "Flag stream from {RolloutApi} unavailable: {Error} Keeping the {Source} flags and retrying with backoff; logged once per outage.")]
    public static partial void StreamUnavailable(ILogger logger, string rolloutApi, string error, FlagSource source);

    [LoggerMessage(EventId = 4522, Level = LogLevel.Debug, Message = "Flag stream from {RolloutApi} still unavailable.")]
    public static partial void StreamRetryFailed(ILogger logger, Exception exception, string rolloutApi);

    [LoggerMessage(EventId = 4523, Level = LogLevel.Information, Message = "Flag stream from {RolloutApi} restored after {Outage}.")]
    public static partial void StreamRestored(ILogger logger, string rolloutApi, TimeSpan outage);

    [LoggerMessage(EventId = 4524, Level = LogLevel.Debug, Message = "Flag stream from {RolloutApi} ended; reconnecting.")]
    public static partial void StreamEnded(ILogger logger, string rolloutApi);

    [LoggerMessage(EventId = 4525, Level = LogLevel.Debug, Message = "Flag stream silent for {IdleTimeout}; reconnecting.")]
    public static partial void StreamIdle(ILogger logger, TimeSpan idleTimeout);

    [LoggerMessage(EventId = 4526, Level = LogLevel.Warning, Message = "Ignored a malformed flag event (id {EventId}).")]
    public static partial void EventMalformed(ILogger logger, Exception? exception, string? eventId);

    [LoggerMessage(EventId = 4530, Level = LogLevel.Warning,
        Message = "Flag '{Feature}' could not be evaluated; it is off and has no variant until its definition changes.")]
    public static partial void EvaluationFailed(ILogger logger, Exception exception, string feature);

    [LoggerMessage(EventId = 4531, Level = LogLevel.Warning, Message = "Could not list the flags in force.")]
    public static partial void FeatureNamesFailed(ILogger logger, Exception exception);
}
