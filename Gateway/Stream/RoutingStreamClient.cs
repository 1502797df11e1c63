using AgentAspire.Contracts;
using ServiceDefaults.Streaming;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Gateway.Routing;
using Microsoft.Extensions.Options;

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
    ILogger<RoutingStreamClient> logger) : BackgroundService, IRoutingStreamStatus
{
    /// <summary>The named HttpClient: no resilience handler and no timeout, since the response never ends by design.</summary>
    public const string HttpClientName = "routing-stream";

    private volatile bool _connected;
    private volatile bool _leaseExpired;
    private DateTimeOffset? _downSince;
    private long _lastContact;
    private CancellationTokenSource? _connection;

    public bool Connected => _connected;

    public DateTimeOffset? DownSince => _downSince;

    public bool LeaseExpired => _leaseExpired;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var streamUri = new Uri(new Uri(o.RolloutApi), RolloutApiPaths.RoutingStreamFor(o.Id));
        // The lease runs from start-up: a gateway that never reached RolloutApi falls back like one that lost it.
        Volatile.Write(ref _lastContact, timeProvider.GetTimestamp());
        var checkEvery = TimeSpan.FromTicks(Math.Clamp(o.Lease.Ticks / 10, TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.FromSeconds(1).Ticks));
        await using var leaseCheck = timeProvider.CreateTimer(_ => CheckLease(o), null, checkEvery, checkEvery);
        var backoff = new ReconnectBackoff(o.ReconnectMinDelay, o.ReconnectMaxDelay, random);
        var client = httpClientFactory.CreateClient(HttpClientName);

        while (!stoppingToken.IsCancellationRequested)
        {
            var delivered = false;
            string reason;
            try
            {
                delivered = await FollowAsync(client, streamUri, o, stoppingToken);
                reason = "the stream ended without a routing table";
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Any failure is an outage to ride out on the last table: a background service that threw would
                // stop the host, which is the opposite of fail static.
                delivered = ex is StreamIdleException { Delivered: true };
                reason = ex.Message;
            }

            _connected = false;
            if (delivered)
            {
                // A stream that delivered and then ended (RolloutApi restarting, an idle cut) is not an outage yet:
                // reconnect at the shortest delay, and only an attempt that fails starts one.
                backoff.Reset();
            }
            else
            {
                MarkDown(streamUri, reason);
            }

            try
            {
                await Task.Delay(backoff.Next(), timeProvider, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Reads one connection to its end; true if it delivered at least one event.</summary>
    private async Task<bool> FollowAsync(HttpClient client, Uri streamUri, GatewayOptions o, CancellationToken stoppingToken)
    {
        // Re-armed on every read: RolloutApi sends a comment on an idle stream, so silence means a dead connection
        // (e.g. a half-open socket after a network partition) that TCP alone may not report for minutes.
        using var idle = new CancellationTokenSource(Timeout.InfiniteTimeSpan, timeProvider);
        using var stopping = stoppingToken.Register(static state => ((CancellationTokenSource)state!).Cancel(), idle);
        Volatile.Write(ref _connection, idle);
        var idleTimeout = o.StreamIdleTimeout > TimeSpan.Zero ? o.StreamIdleTimeout : Timeout.InfiniteTimeSpan;
        idle.CancelAfter(idleTimeout);

        using var request = new HttpRequestMessage(HttpMethod.Get, streamUri);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (!string.IsNullOrEmpty(o.ApiKey))
        {
            request.Headers.TryAddWithoutValidation(AgentHeaders.ApiKey, o.ApiKey);
        }

        var delivered = false;
        var firstOnConnection = true;
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"RolloutApi answered {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
            }

            await using var body = new ReadActivityStream(await response.Content.ReadAsStreamAsync(idle.Token), () =>
            {
                idle.CancelAfter(idleTimeout);
                Contact();
            });
            var parser = SseParser.Create(body, static (eventType, data) => Parse(eventType, data));
            await foreach (var item in parser.EnumerateAsync(idle.Token))
            {
                if (item.Data is not { } table)
                {
                    continue;
                }

                delivered = true;
                MarkUp(streamUri);
                if (routing.TryApply(table, out var applied))
                {
                    proxyDestinations.Apply(applied);
                    LogApplied(logger, applied.Revision, applied.Weight, applied.Stable.Version, applied.Canary.Version);
                }

                // Every table, applied or not (a reconnect re-sends the one in force): RolloutApi learns what this gateway runs.
                // The first one on a connection is reported even if unchanged: RolloutApi may have restarted and forgotten us.
                reporter.ReportNow(force: firstOnConnection);
                firstOnConnection = false;
            }
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
        {
            throw new StreamIdleException(_leaseExpired ? "lease expired" : $"no data for {idleTimeout}", delivered);
        }
        finally
        {
            Interlocked.CompareExchange(ref _connection, null, idle);
        }

        return delivered;
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
            try
            {
                Volatile.Read(ref _connection)?.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The connection ended meanwhile; the next one starts with the current table anyway.
            }
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

    /// <summary>The stream went silent past <see cref="GatewayOptions.StreamIdleTimeout"/>.</summary>
    private sealed class StreamIdleException(string message, bool delivered) : IOException(message)
    {
        public bool Delivered { get; } = delivered;
    }
}
