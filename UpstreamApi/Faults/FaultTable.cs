using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace UpstreamApi.Faults;

/// <summary>A fault for the calls of one track: added latency and the share of calls that fail.</summary>
public sealed record TrackFault(int LatencyMs, double ErrorRate);

/// <summary>The bounds the control API enforces.</summary>
public static partial class FaultLimits
{
    public static readonly TimeSpan MaxLatency = TimeSpan.FromMinutes(1);

    public const string TrackRule = "lowercase letters, digits and '-', at most 32 characters";

    /// <summary>A caller that does not say its track (no <c>X-Agent-Track</c> header).</summary>
    public const string UnknownTrack = "unknown";

    public static bool IsValidTrack(string? track) => track is not null && TrackName().IsMatch(track);

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,31}\\z")]
    private static partial Regex TrackName();
}

/// <summary>
/// The faults in force, per calling track. Changed at run time through the control API (and the dashboard's commands);
/// in memory on purpose: a restart of the simulator is a clean upstream.
/// </summary>
public sealed class FaultTable
{
    private readonly ConcurrentDictionary<string, TrackFault> _faults = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, TrackFault> All =>
        new SortedDictionary<string, TrackFault>(_faults.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal);

    public TrackFault? For(string track) => _faults.TryGetValue(track, out var fault) ? fault : null;

    public void Set(string track, TrackFault fault) => _faults[track] = fault;

    public bool Clear(string track) => _faults.TryRemove(track, out _);

    public void ClearAll() => _faults.Clear();
}
