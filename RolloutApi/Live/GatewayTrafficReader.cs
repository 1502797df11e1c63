using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace RolloutApi.Live;

/// <summary>Reads per-track traffic for the live view.</summary>
public interface ITrafficReader
{
    /// <summary>The gateways' traffic for <paramref name="agent"/>, or an explanation of why there is none.</summary>
    Task<(TrafficSample? Sample, string? Error)> ReadAsync(string agent, CancellationToken cancellationToken);
}

/// <summary>
/// Sums what each configured gateway reports at <c>/gateway/stats?window=N</c>. Counts add up exactly; with more than one
/// gateway the latency percentiles are the request-weighted mean of each gateway's (an approximation: percentiles do not
/// add). A gateway that does not answer in time is left out of the frame and counted in the error text.
/// </summary>
public sealed partial class GatewayTrafficReader(IHttpClientFactory clients, IOptions<LiveOptions> options, TimeProvider time, ILogger<GatewayTrafficReader> logger)
    : ITrafficReader
{
    public const string HttpClientName = "live-gateway-stats";
    private const string StatsPath = "gateway/stats";

    public async Task<(TrafficSample? Sample, string? Error)> ReadAsync(string agent, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.Gateways.Count == 0)
        {
            return (null, "No gateway is configured (Live:Gateways).");
        }

        var reads = settings.Gateways.Select(gateway => ReadOneAsync(gateway, settings, cancellationToken)).ToArray();
        var summaries = await Task.WhenAll(reads);
        var answered = summaries.Where(s => s is not null && string.Equals(s.Agent, agent, StringComparison.Ordinal)).Select(s => s!).ToList();
        if (answered.Count == 0)
        {
            return (null, $"None of {settings.Gateways.Count} gateway(s) answered with stats for '{agent}'.");
        }

        var window = answered[0].WindowSeconds;
        var sample = new TrafficSample(
            time.GetUtcNow(),
            window,
            answered.Count,
            answered.Max(s => s.Weight),
            Merge(answered.Select(s => s.Stable).ToList(), window),
            Merge(answered.Select(s => s.Canary).ToList(), window));
        var missing = settings.Gateways.Count - answered.Count;
        return (sample, missing == 0 ? null : string.Create(CultureInfo.InvariantCulture, $"{missing} of {settings.Gateways.Count} gateway(s) did not answer."));
    }

    private async Task<GatewayStats?> ReadOneAsync(Uri gateway, LiveOptions settings, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.GatewayTimeout);
        try
        {
            var client = clients.CreateClient(HttpClientName);
            var uri = new Uri(gateway, string.Create(CultureInfo.InvariantCulture, $"{StatsPath}?window={settings.StatsWindowSeconds}"));
            return await client.GetFromJsonAsync<GatewayStats>(uri, timeout.Token);
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException
                                          && !cancellationToken.IsCancellationRequested)
        {
            LogGatewayUnavailable(logger, gateway, exception.Message);
            return null;
        }
    }

    private static TrackSample Merge(IReadOnlyList<GatewayTrack> tracks, int window)
    {
        var requests = tracks.Sum(t => t.Requests);
        var errors = tracks.Sum(t => t.Errors.ServerErrors + t.Errors.Transport);
        double? Weighted(Func<GatewayLatency, double?> pick)
        {
            var withValue = tracks.Where(t => pick(t.LatencyMs) is not null && t.Requests > 0).ToList();
            var total = withValue.Sum(t => t.Requests);
            return total == 0 ? null : Math.Round(withValue.Sum(t => pick(t.LatencyMs)!.Value * t.Requests) / total, 3);
        }

        return new TrackSample(
            tracks[0].Track,
            tracks[0].Version,
            requests,
            Math.Round(requests / (double)Math.Max(1, window), 3),
            errors,
            requests == 0 ? 0 : Math.Round(errors / (double)requests, 6),
            Weighted(l => l.P50),
            Weighted(l => l.P95),
            Weighted(l => l.P99));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Gateway {Gateway} gave no stats: {Reason}")]
    private static partial void LogGatewayUnavailable(ILogger logger, Uri gateway, string reason);

    // The gateway's /gateway/stats document (Gateway/Stats/TrafficSummary.cs), read loosely: unknown members are ignored
    // so that a gateway that adds fields (histogram buckets) still reads.
    private sealed record GatewayStats(
        [property: JsonPropertyName("agent")] string Agent,
        [property: JsonPropertyName("windowSeconds")] int WindowSeconds,
        [property: JsonPropertyName("weight")] int Weight,
        [property: JsonPropertyName("stable")] GatewayTrack Stable,
        [property: JsonPropertyName("canary")] GatewayTrack Canary);

    private sealed record GatewayTrack(
        [property: JsonPropertyName("track")] string Track,
        [property: JsonPropertyName("version")] string Version,
        [property: JsonPropertyName("requests")] long Requests,
        [property: JsonPropertyName("errors")] GatewayErrors Errors,
        [property: JsonPropertyName("latencyMs")] GatewayLatency LatencyMs);

    private sealed record GatewayErrors(
        [property: JsonPropertyName("5xx")] long ServerErrors,
        [property: JsonPropertyName("transport")] long Transport);

    private sealed record GatewayLatency(
        [property: JsonPropertyName("p50")] double? P50,
        [property: JsonPropertyName("p95")] double? P95,
        [property: JsonPropertyName("p99")] double? P99);
}
