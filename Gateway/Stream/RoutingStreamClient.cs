using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text.Json;
using AgentAspire.Contracts;
using Gateway.Routing;
using Microsoft.Extensions.Options;
using ServiceDefaults.Streaming;

namespace Gateway.Stream;

/// <summary>What the gateway knows about its connection to RolloutApi's routing stream.</summary>
public interface IRoutingStreamStatus
{
    /// <summary>True while a stream is open and has delivered its first table.</summary>
    bool Connected { get; }

    /// <summary>When the current outage began; null while connected or before the first attempt failed.</summary>
    DateTimeOffset? DownSince { get; }

    /// <summary>True once nothing was heard from RolloutApi for longer than <see cref="GatewayOptions.Lease"/>.</summary>
    bool LeaseExpired { get; }

    /// <summary>
    /// True while no routing table from RolloutApi has been applied since this process started, for at most
    /// <see cref="GatewayOptions.FirstTableWait"/>: readiness waits for the table in force.
    /// </summary>
    bool AwaitingFirstTable { get; }
}

/// <summary>
/// Follows RolloutApi's routing stream (server-sent events) and applies every newer table. Fail static: while
/// RolloutApi is unreachable the last table stays in force (at a cold start, the configured initial weight);
/// reconnection backs off exponentially with jitter, and an outage is logged once when it starts and once when it
/// ends, never per attempt.
/// </summary>
internal sealed partial class RoutingStreamClient(
    IHttpClientFactory httpClientFactory,
    IRoutingState routing,
    IProxyDestinations proxyDestinations,
    RoutingReporter reporter,
    IOptions<GatewayOptions> options,
    TimeProvider timeProvider,
    Random random,
    ILogger<RoutingStreamClient> logger) : BackgroundService, IRoutingStreamStatus, ISseSubscriber<RoutingTable>
{
    /// <summary>The named HttpClient: no resilience handler and no timeout, since the response never ends by design.</summary>
    public const string HttpClientName = "routing-stream";

    private readonly long _startedAt = timeProvider.GetTimestamp();
    private volatile bool _hasTable;
    private volatile bool _connected;
    private volatile bool _leaseExpired;
    private DateTimeOffset? _downSince;
    private long _lastContact;
    private Uri _streamUri = null!;
    private SseSubscription<RoutingTable>? _subscription;

    public bool Connected => _connected;

    public DateTimeOffset? DownSince => _downSince;

    public bool LeaseExpired => _leaseExpired;

    public bool AwaitingFirstTable => !_hasTable && timeProvider.GetElapsedTime(_startedAt) < options.Value.FirstTableWait;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        _streamUri = new Uri(new Uri(o.RolloutApi), RolloutApiPaths.RoutingStreamFor(o.Id));
        // The lease runs from start-up: a gateway that never reached RolloutApi falls back like one that lost it.
        Volatile.Write(ref _lastContact, timeProvider.GetTimestamp());
        var checkEvery = TimeSpan.FromTicks(Math.Clamp(o.Lease.Ticks / 10, TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.FromSeconds(1).Ticks));
        await using var leaseCheck = timeProvider.CreateTimer(_ => CheckLease(o), null, checkEvery, checkEvery);
        var subscription = new SseSubscription<RoutingTable>(
            httpClientFactory.CreateClient(HttpClientName), o.StreamSubscription, timeProvider, random);
        Volatile.Write(ref _subscription, subscription);
        await subscription.RunAsync(this, stoppingToken);
    }

    HttpRequestMessage ISseSubscriber<RoutingTable>.CreateRequest()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, _streamUri);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(FlagApiPaths.EventStreamContentType));
        var apiKey = options.Value.ApiKey;
        if (!string.IsNullOrEmpty(apiKey))
        {
            request.Headers.TryAddWithoutValidation(AgentHeaders.ApiKey, apiKey);
        }

        return request;
    }

    RoutingTable? ISseSubscriber<RoutingTable>.Parse(string eventType, ReadOnlySpan<byte> data) => Parse(eventType, data);

    bool ISseSubscriber<RoutingTable>.OnItem(SseItem<RoutingTable> item, bool firstOnConnection)
    {
        var table = item.Data;
        MarkUp(_streamUri);
        if (routing.TryApply(table, out var applied))
        {
            proxyDestinations.Apply(applied);
            LogApplied(logger, applied.Revision, applied.Weight, applied.Stable.Version, applied.Canary.Version);
        }

        // Applied now or already in force (the same revision again): either way the gateway routes by RolloutApi's table.
        _hasTable = true;

        // Every table, applied or not (a reconnect re-sends the one in force): RolloutApi learns what this gateway runs.
        // The first one on a connection is reported even if unchanged: RolloutApi may have restarted and forgotten us.
        reporter.ReportNow(force: firstOnConnection);
        return true;
    }

    void ISseSubscriber<RoutingTable>.OnActivity() => Contact();

    void ISseSubscriber<RoutingTable>.OnConnectionEnded(SseConnectionResult result)
    {
        _connected = false;
        // A stream that delivered and then ended (RolloutApi restarting, an idle cut) is not an outage yet: the
        // subscription reconnects at the shortest delay, and only an attempt that fails starts one.
        if (result.Delivered)
        {
            return;
        }

        var reason = result.End switch
        {
            SseConnectionEnd.Completed => "the stream ended without a routing table",
            SseConnectionEnd.Failed => result.Error?.Message ?? "the stream failed",
            _ => _leaseExpired ? "lease expired" : $"no data for {options.Value.StreamSubscription.IdleTimeout}",
        };
        MarkDown(_streamUri, reason);
    }

    /// <summary>A <c>routing</c> event's table; anything else, or data that is not a table, is skipped.</summary>
    private static RoutingTable? Parse(string eventType, ReadOnlySpan<byte> data)
    {
        if (eventType is not (RolloutApiPaths.RoutingEventName or SseParser.EventTypeDefault))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(data, GatewayJsonContext.Default.RoutingTable);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private void Contact()
    {
        Volatile.Write(ref _lastContact, timeProvider.GetTimestamp());
        if (_leaseExpired)
        {
            _leaseExpired = false;
            LogLeaseRenewed(logger);
        }
    }

    /// <summary>
    /// Runs on a timer: once RolloutApi has been silent past the lease, falls back to the configured safe mode. In
    /// stable-only mode the open connection (if any) is dropped too, so that the next table arrives on a fresh stream,
    /// which always begins with the table in force, and restores the routing.
    /// </summary>
    private void CheckLease(GatewayOptions o)
    {
        if (_leaseExpired || timeProvider.GetElapsedTime(Volatile.Read(ref _lastContact)) <= o.Lease)
        {
            return;
        }

        _leaseExpired = true;
        var current = routing.Current;
        LogLeaseExpired(logger, o.Lease, o.LeaseFallback, current.Revision, current.Weight);
        if (o.LeaseFallback == LeaseFallback.StableOnly)
        {
            routing.FallBackToStable();
            reporter.ReportNow();
            // The next connection starts with the table in force.
            Volatile.Read(ref _subscription)?.DropConnection();
        }
    }

    private void MarkUp(Uri streamUri)
    {
        if (_connected)
        {
            return;
        }

        _connected = true;
        if (_downSince is { } since)
        {
            LogRestored(logger, streamUri, timeProvider.GetUtcNow() - since);
        }

        _downSince = null;
    }

    private void MarkDown(Uri streamUri, string reason)
    {
        _connected = false;
        if (_downSince is not null)
        {
            return;
        }

        _downSince = timeProvider.GetUtcNow();
        var current = routing.Current;
        LogUnavailable(logger, streamUri, reason, current.Revision, current.Weight);
    }

    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Applied routing revision {Revision}: canary weight {Weight} bp, stable {StableVersion}, canary {CanaryVersion}.")]
    private static partial void LogApplied(ILogger logger, long revision, int weight, string stableVersion, string canaryVersion);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Routing stream {Uri} unavailable ({Reason}); keeping routing revision {Revision} (canary weight {Weight} bp) until it returns. Retrying with backoff; logged once per outage.")]
    private static partial void LogUnavailable(ILogger logger, Uri uri, string reason, long revision, int weight);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "No word from RolloutApi for longer than the lease ({Lease}): lease fallback {Fallback} (was revision {Revision}, canary weight {Weight} bp).")]
    private static partial void LogLeaseExpired(ILogger logger, TimeSpan lease, LeaseFallback fallback, long revision, int weight);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Information, Message = "RolloutApi heard from again: lease renewed.")]
    private static partial void LogLeaseRenewed(ILogger logger);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Information, Message = "Routing stream {Uri} restored after {Outage}.")]
    private static partial void LogRestored(ILogger logger, Uri uri, TimeSpan outage);
}
