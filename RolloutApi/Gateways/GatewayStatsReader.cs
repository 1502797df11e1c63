using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using AgentAspire.Contracts;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.ServiceDiscovery;

namespace RolloutApi.Gateways;

/// <summary>
/// Where the gateways are (section <c>Gateways</c>): explicit <see cref="Urls"/> (e.g. one per pod on Kubernetes, from a
/// headless Service), else every endpoint service discovery knows for <see cref="ServiceName"/> (Aspire's
/// <c>WithReference(gateway)</c>).
/// </summary>
public sealed class GatewayReaderOptions
{
    public const string SectionName = "Gateways";
    public const string DefaultServiceName = "http://gateway";

    /// <summary>Every gateway replica's base URL. When empty, <see cref="ServiceName"/> is resolved.</summary>
    public List<Uri> Urls { get; set; } = [];

    /// <summary>The service name resolved through service discovery to all of its endpoints.</summary>
    [Required]
    public string ServiceName { get; set; } = DefaultServiceName;

    /// <summary>How long one replica may take to answer.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>A track summed over every replica: counts and latency buckets added bucket by bucket.</summary>
public sealed record MergedTrackStats(string Version, long Requests, long Failures, long ClientErrors, long[] LatencyBucketCounts);

/// <summary>Every replica of one agent's gateway, merged.</summary>
public sealed record MergedGatewayStats(
    string Agent, int WindowSeconds, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<double> LatencyBucketBoundsMs,
    MergedTrackStats Stable, MergedTrackStats Canary, IReadOnlyList<TrafficSummary> Replicas);

/// <summary>
/// Reads <c>/gateway/stats</c> from every gateway replica and merges them correctly: counts and histogram buckets are added
/// (percentiles are never averaged). Used by the <c>gateway</c> analysis source; reusable for live charts.
/// </summary>
public sealed partial class GatewayStatsReader(
    IHttpClientFactory httpClientFactory, IOptions<GatewayReaderOptions> options, IServiceProvider services, ILogger<GatewayStatsReader> logger)
{
    public const string HttpClientName = "gateway-stats";
    public const string StatsPath = TrafficSummary.Path;
    public const int MaxWindowSeconds = 600;

    /// <summary>The base URL of every replica: the configured ones, else what service discovery resolves.</summary>
    public async Task<IReadOnlyList<Uri>> ReplicasAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.Urls.Count > 0)
        {
            return settings.Urls;
        }

        var resolver = services.GetService<ServiceEndpointResolver>()
            ?? throw new InvalidOperationException($"No {GatewayReaderOptions.SectionName}:Urls configured and no service discovery to resolve '{settings.ServiceName}'.");
        var source = await resolver.GetEndpointsAsync(settings.ServiceName, cancellationToken);
        var scheme = settings.ServiceName.StartsWith("https", StringComparison.OrdinalIgnoreCase) ? Uri.UriSchemeHttps : Uri.UriSchemeHttp;
        return [.. source.Endpoints.Select(e => ToUri(e.EndPoint, scheme)).OfType<Uri>()];
    }

    /// <summary>Every replica's stats over the last <paramref name="windowSeconds"/> seconds (1-600). Throws if any replica fails.</summary>
    public async Task<IReadOnlyList<TrafficSummary>> ReadAllAsync(int windowSeconds, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowSeconds, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(windowSeconds, MaxWindowSeconds);
        var replicas = await ReplicasAsync(cancellationToken);
        if (replicas.Count == 0)
        {
            throw new InvalidOperationException($"No gateway replica found (configure {GatewayReaderOptions.SectionName}:Urls or reference the gateway).");
        }

        var client = httpClientFactory.CreateClient(HttpClientName);
        return await Task.WhenAll(replicas.Select(async replica =>
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.Value.Timeout);
            var url = new Uri(replica, string.Create(CultureInfo.InvariantCulture, $"{StatsPath}?{TrafficSummary.WindowParameter}={windowSeconds}"));
            try
            {
                return await client.GetFromJsonAsync<TrafficSummary>(url, timeout.Token)
                    ?? throw new InvalidOperationException($"{url} answered null.");
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                Log.ReplicaFailed(logger, url, ex);
                throw new InvalidOperationException($"Gateway replica {replica} did not answer {StatsPath}: {ex.Message}", ex);
            }
        }));
    }

    /// <summary>The stats of <paramref name="agent"/>'s gateway replicas, merged (throws when none serves it).</summary>
    public async Task<MergedGatewayStats> ReadAsync(string agent, int windowSeconds, CancellationToken cancellationToken)
    {
        var all = await ReadAllAsync(windowSeconds, cancellationToken);
        return Merge(agent, [.. all.Where(r => string.Equals(r.Agent, agent, StringComparison.Ordinal))])
            ?? throw new InvalidOperationException($"No gateway replica serves agent '{agent}' (found: {string.Join(", ", all.Select(r => r.Agent).Distinct())}).");
    }

    /// <summary>Adds the replicas' counts and buckets; null when there are none.</summary>
    public static MergedGatewayStats? Merge(string agent, IReadOnlyList<TrafficSummary> replicas)
    {
        if (replicas.Count == 0)
        {
            return null;
        }

        var bounds = replicas[0].LatencyBucketBoundsMs;
        if (replicas.Any(r => !r.LatencyBucketBoundsMs.SequenceEqual(bounds)))
        {
            throw new InvalidOperationException("Gateway replicas use different latency buckets; they cannot be merged (upgrade them to one version).");
        }

        MergedTrackStats MergeTrack(Func<TrafficSummary, TrackTraffic> pick)
        {
            var buckets = new long[bounds.Count + 1];
            long requests = 0, failures = 0, clientErrors = 0;
            foreach (var replica in replicas)
            {
                var track = pick(replica);
                requests += track.Requests;
                failures += track.Failures;
                clientErrors += track.Errors.ClientErrors;
                for (var i = 0; i < buckets.Length && i < track.LatencyBucketCounts.Count; i++)
                {
                    buckets[i] += track.LatencyBucketCounts[i];
                }
            }

            // Replicas may briefly disagree on a version during a change; the newest routing revision's label wins.
            var newest = replicas.MaxBy(r => r.Revision)!;
            return new MergedTrackStats(pick(newest).Version, requests, failures, clientErrors, buckets);
        }

        return new MergedGatewayStats(
            agent, replicas.Max(r => r.WindowSeconds), replicas.Min(r => r.From), replicas.Max(r => r.To), bounds,
            MergeTrack(r => r.Stable), MergeTrack(r => r.Canary), replicas);
    }

    private static Uri? ToUri(EndPoint endPoint, string scheme) => endPoint switch
    {
        UriEndPoint uri => uri.Uri,
        DnsEndPoint dns => new UriBuilder(scheme, dns.Host, dns.Port).Uri,
        IPEndPoint ip => new UriBuilder(scheme, ip.Address.ToString(), ip.Port).Uri,
        _ => null,
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 3500, Level = LogLevel.Warning, Message = "Reading {Url} failed")]
        public static partial void ReplicaFailed(ILogger logger, Uri url, Exception exception);
    }
}

/// <summary>Registration.</summary>
public static class GatewayReaderServiceCollectionExtensions
{
    public static IServiceCollection AddGatewayStatsReader(this IServiceCollection services)
    {
        services.AddOptions<GatewayReaderOptions>()
            .BindConfiguration(GatewayReaderOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddHttpClient(GatewayStatsReader.HttpClientName);
        services.TryAddSingleton<GatewayStatsReader>();
        return services;
    }
}
