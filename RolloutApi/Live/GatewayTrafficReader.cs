using System.Globalization;
using AgentAspire.Contracts;
using Microsoft.Extensions.Options;
using RolloutApi.Gateways;

namespace RolloutApi.Live;

/// <summary>Reads per-track traffic for the live view.</summary>
public interface ITrafficReader
{
    /// <summary>The gateways' traffic for <paramref name="agent"/>, or an explanation of why there is none.</summary>
    Task<(TrafficSample? Sample, string? Error)> ReadAsync(string agent, CancellationToken cancellationToken);
}

/// <summary>
/// The live view's traffic: every gateway replica's <c>/gateway/stats</c> through <see cref="GatewayStatsReader"/> (the
/// analysis source's reader), merged the right way — counts and latency buckets added, percentiles computed from the merged
/// buckets, never averaged.
/// </summary>
public sealed partial class GatewayTrafficReader(GatewayStatsReader gateways, IOptions<LiveOptions> options, TimeProvider time, ILogger<GatewayTrafficReader> logger)
    : ITrafficReader
{
    public async Task<(TrafficSample? Sample, string? Error)> ReadAsync(string agent, CancellationToken cancellationToken)
    {
        var window = options.Value.StatsWindowSeconds;
        MergedGatewayStats merged;
        try
        {
            merged = await gateways.ReadAsync(agent, window, cancellationToken);
        }
        catch (InvalidOperationException exception)
        {
            // No replica found, one did not answer, or none serves this agent: the frame goes out without traffic, saying why.
            Log.NoTraffic(logger, agent, exception.Message);
            return (null, exception.Message);
        }

        var weight = merged.Replicas.MaxBy(r => r.Revision)?.Weight ?? 0;
        return (new TrafficSample(
            time.GetUtcNow(),
            merged.WindowSeconds,
            merged.Replicas.Count,
            weight,
            Track("stable", merged.Stable, merged),
            Track("canary", merged.Canary, merged)), null);
    }

    private static TrackSample Track(string name, MergedTrackStats track, MergedGatewayStats merged)
    {
        double? Percentile(double quantile) =>
            LatencyHistogram.Percentile(track.LatencyBucketCounts, merged.LatencyBucketBoundsMs, quantile) is { } value ? Math.Round(value, 3) : null;

        return new TrackSample(
            name,
            track.Version,
            track.Requests,
            Math.Round(track.Requests / (double)Math.Max(1, merged.WindowSeconds), 3),
            track.Failures,
            track.Requests == 0 ? 0 : Math.Round(track.Failures / (double)track.Requests, 6),
            Percentile(0.50),
            Percentile(0.95),
            Percentile(0.99));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3600, Level = LogLevel.Debug, Message = "No gateway traffic for {Agent}: {Reason}")]
        public static partial void NoTraffic(ILogger logger, string agent, string reason);
    }
}
