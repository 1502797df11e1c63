using System.Net.ServerSentEvents;
using System.Text.Json;
using System.Threading.Channels;
using AgentAspire.Agent.Identity;
using AgentAspire.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServiceDefaults.Streaming;

namespace AgentAspire.Agent.Flags;

/// <summary>
/// Keeps <see cref="FlagStore"/> fed from RolloutApi's flag stream: loads the last-known snapshot at start, then reads
/// server-sent events for as long as the agent runs, reconnecting with exponential backoff and jitter. An outage is
/// logged once when it starts and once when it ends; the flags in force stay put throughout (fail static).
/// </summary>
internal sealed class FlagStreamClient(
    IHttpClientFactory httpClientFactory,
    FlagStore store,
    FlagSnapshotCache cache,
    FlagStreamStatus status,
    IAgentIdentity identity,
    IOptions<FlagsOptions> options,
    TimeProvider timeProvider,
    Random random,
    ILogger<FlagStreamClient> logger) : BackgroundService, ISseSubscriber<byte[]>
{
    /// <summary>The named HttpClient: no resilience handler and no timeout, since the response never ends on its own.</summary>
    public const string HttpClientName = "AgentAspire.Flags";

    // The disk write (with its fsync) happens off the stream loop, newest snapshot only: a burst of flag changes must
    // not queue behind disk flushes, and only the last one matters on disk anyway.
    private readonly Channel<FlagSnapshot> _toDisk = Channel.CreateBounded<FlagSnapshot>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true });

    private DateTimeOffset? _outageSince;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        status.MarkStarted(timeProvider.GetUtcNow());

        // Before the stream connects: an agent restarted while RolloutApi is down starts with its last-known flags.
        if (cache.TryLoad() is { } lastKnown && store.Apply(lastKnown, FlagSource.LastKnown) == FlagApplyResult.Applied)
        {
            FlagsLog.CacheLoaded(logger, lastKnown.Version, cache.Path);
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var writer = WriteLastKnownAsync();
        try
        {
            await FollowStreamAsync(stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            _toDisk.Writer.TryComplete();
            await writer.ConfigureAwait(false);
        }
    }

    private async Task WriteLastKnownAsync()
    {
        // Drained to the end on shutdown, so the newest snapshot reaches the disk before the process exits.
        await foreach (var snapshot in _toDisk.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            cache.TrySave(snapshot);
        }
    }

    private async Task FollowStreamAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var subscription = new SseSubscription<byte[]>(
            httpClientFactory.CreateClient(HttpClientName), settings.StreamSubscription, timeProvider, random);
        await subscription.RunAsync(this, stoppingToken).ConfigureAwait(false);
    }

    HttpRequestMessage ISseSubscriber<byte[]>.CreateRequest()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, FlagApiPaths.StreamFor(identity.Agent, identity.Track));
        request.Headers.Accept.ParseAdd(FlagApiPaths.EventStreamContentType);
        var apiKey = options.Value.ApiKey;
        if (!string.IsNullOrEmpty(apiKey))
        {
            request.Headers.TryAddWithoutValidation(AgentHeaders.ApiKey, apiKey);
        }

        return request;
    }

    // Only flag events; the JSON is read in OnItem, where a malformed event can be logged with its id.
    byte[]? ISseSubscriber<byte[]>.Parse(string eventType, ReadOnlySpan<byte> data) =>
        string.Equals(eventType, FlagApiPaths.EventName, StringComparison.Ordinal) ? data.ToArray() : null;

    bool ISseSubscriber<byte[]>.OnItem(SseItem<byte[]> item, bool firstOnConnection)
    {
        if (!Receive(item, firstOnConnection))
        {
            return false;
        }

        if (firstOnConnection)
        {
            MarkDelivered(options.Value.RolloutApi);
        }

        return true;
    }

    void ISseSubscriber<byte[]>.OnActivity()
    {
    }

    void ISseSubscriber<byte[]>.OnConnectionEnded(SseConnectionResult result)
    {
        var settings = options.Value;
        status.MarkConnected(false);
        switch (result)
        {
            case { End: SseConnectionEnd.Completed }:
                FlagsLog.StreamEnded(logger, settings.RolloutApi);
                break;
            case { End: SseConnectionEnd.Failed, Error: { } error }:
                NoteFailure(error, settings.RolloutApi);
                break;
            case { Delivered: true }:
                // A quiet stream after a good start: reopen it, no outage to report.
                FlagsLog.StreamIdle(logger, settings.IdleTimeout);
                break;
            default:
                NoteFailure(new TimeoutException($"RolloutApi sent no flag snapshot within {settings.IdleTimeout}."), settings.RolloutApi);
                break;
        }
    }

    /// <summary>Applies one event; true when it carried a snapshot this agent accepted (new or already in force).</summary>
    private bool Receive(SseItem<byte[]> item, bool authoritative)
    {
        FlagSnapshot? snapshot;
        try
        {
            snapshot = JsonSerializer.Deserialize(item.Data, FlagJsonContext.Default.FlagSnapshot);
        }
        catch (JsonException e)
        {
            FlagsLog.EventMalformed(logger, e, item.EventId);
            return false;
        }

        if (snapshot is null)
        {
            FlagsLog.EventMalformed(logger, null, item.EventId);
            return false;
        }

        var result = store.Apply(snapshot, FlagSource.Remote, authoritative);
        if (result == FlagApplyResult.Applied)
        {
            _toDisk.Writer.TryWrite(snapshot);
        }

        return result != FlagApplyResult.Rejected;
    }

    private void MarkDelivered(string rolloutApi)
    {
        status.MarkConnected(true);
        if (_outageSince is { } since)
        {
            FlagsLog.StreamRestored(logger, rolloutApi, timeProvider.GetUtcNow() - since);
            _outageSince = null;
        }
        else
        {
            FlagsLog.StreamConnected(logger, rolloutApi);
        }
    }

    private void NoteFailure(Exception exception, string rolloutApi)
    {
        if (_outageSince is null)
        {
            _outageSince = timeProvider.GetUtcNow();
            FlagsLog.StreamUnavailable(logger, rolloutApi, exception.Message, store.Source);
        }
        else
        {
            FlagsLog.StreamRetryFailed(logger, exception, rolloutApi);
        }
    }
}
