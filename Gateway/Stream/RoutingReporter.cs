using System.Net.Http.Json;
using System.Threading.Channels;
using AgentAspire.Contracts;
using Gateway.Routing;
using Microsoft.Extensions.Options;

namespace Gateway.Stream;

/// <summary>
/// Tells RolloutApi which routing revision this gateway applies (<c>PUT /api/routing/gateways/{id}</c>), so that an abort
/// returns only once the gateways say they applied it. Latest wins: a report that failed is retried until it gets through
/// or a newer one replaces it. On a graceful stop the gateway says goodbye, so that it stops counting at once.
/// </summary>
internal sealed partial class RoutingReporter(
    IHttpClientFactory httpClientFactory,
    IRoutingState routing,
    IOptions<GatewayOptions> options,
    TimeProvider timeProvider,
    ILogger<RoutingReporter> logger) : BackgroundService
{
    /// <summary>The named HttpClient: a short timeout and no retry handler (this loop retries, latest value first).</summary>
    public const string HttpClientName = "routing-report";

    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(250);

    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private (long Revision, bool Fallback) _sent = (-1, false);
    private int _force;

    /// <summary>
    /// Report the routing in force now (called after a table was received, and when the lease falls back). With
    /// <paramref name="force"/> (the first table of a new stream connection) it is sent even if unchanged: the RolloutApi
    /// instance at the other end may be a new one that knows nothing of this gateway.
    /// </summary>
    public void ReportNow(bool force = false)
    {
        if (force)
        {
            Volatile.Write(ref _force, 1);
        }

        _wake.Writer.TryWrite(true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var client = httpClientFactory.CreateClient(HttpClientName);
        var uri = new Uri(new Uri(o.RolloutApi), RolloutApiPaths.GatewayReport(o.Id));
        try
        {
            while (await _wake.Reader.WaitToReadAsync(stoppingToken))
            {
                _wake.Reader.TryRead(out _);
                var snapshot = routing.Current;
                var state = (snapshot.Revision, snapshot.StableOnlyFallback);
                var forced = Interlocked.Exchange(ref _force, 0) == 1;
                if (state == _sent && !forced)
                {
                    continue;
                }

                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Put, uri)
                    {
                        Content = JsonContent.Create(
                            new GatewayReport(snapshot.Revision, snapshot.Agent, snapshot.StableOnlyFallback ? FallbackNames.StableOnly : null),
                            GatewayJsonContext.Default.GatewayReport),
                    };
                    AddApiKey(request, o);
                    using var response = await client.SendAsync(request, stoppingToken);
                    response.EnsureSuccessStatusCode();
                    _sent = state;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
                {
                    // RolloutApi is unreachable or slow: the stream client handles the outage; retry this report shortly,
                    // unless a newer one comes first (the loop always sends the latest state).
                    LogReportFailed(logger, snapshot.Revision, ex.Message);
                    await Task.Delay(RetryDelay, timeProvider, stoppingToken);
                    ReportNow(force: forced);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        var o = options.Value;
        try
        {
            // Best effort and short: a gateway that cannot say goodbye is forgotten by RolloutApi after a while anyway.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(1));
            using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(new Uri(o.RolloutApi), RolloutApiPaths.GatewayReport(o.Id)));
            AddApiKey(request, o);
            using var response = await httpClientFactory.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            // RolloutApi is down or slow: nothing to do.
        }
    }

    private static void AddApiKey(HttpRequestMessage request, GatewayOptions o)
    {
        if (!string.IsNullOrEmpty(o.ApiKey))
        {
            request.Headers.TryAddWithoutValidation(AgentHeaders.ApiKey, o.ApiKey);
        }
    }

    [LoggerMessage(EventId = 2150, Level = LogLevel.Debug, Message = "Could not report routing revision {Revision} to RolloutApi ({Reason}); retrying.")]
    private static partial void LogReportFailed(ILogger logger, long revision, string reason);
}

/// <summary>The names a gateway reports for its lease fallback.</summary>
internal static class FallbackNames
{
    public const string StableOnly = "stable-only";
}
