using System.Net.ServerSentEvents;

namespace ServiceDefaults.Streaming;

/// <summary>
/// How a server-sent-events subscription reconnects and when it gives a silent stream up: the one shape both of
/// RolloutApi's stream consumers use (the gateway's routing stream, an agent's flag stream). Each binds its own,
/// long-standing configuration keys into it (<c>Gateway:ReconnectMinDelay</c>…, <c>Flags:ReconnectDelay</c>…).
/// </summary>
public sealed class SseSubscriptionOptions
{
    /// <summary>The first reconnect delay; it doubles per failed attempt (with jitter) up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest reconnect delay.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A stream silent this long (no event, no keep-alive comment) is dropped and reopened: a half-open connection
    /// would otherwise hide every change for minutes. Zero, negative or <see cref="Timeout.InfiniteTimeSpan"/>: never.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    internal TimeSpan EffectiveIdleTimeout => IdleTimeout > TimeSpan.Zero ? IdleTimeout : Timeout.InfiniteTimeSpan;
}

/// <summary>How one connection of a <see cref="SseSubscription{T}"/> ended.</summary>
public enum SseConnectionEnd
{
    /// <summary>The server closed the stream.</summary>
    Completed,

    /// <summary>Nothing was read for <see cref="SseSubscriptionOptions.IdleTimeout"/>.</summary>
    IdleTimeout,

    /// <summary>The subscriber dropped it (<see cref="SseSubscription{T}.DropConnection"/>).</summary>
    Dropped,

    /// <summary>The request failed, the server refused it, or the stream broke.</summary>
    Failed,
}

/// <summary>One connection's outcome: whether it delivered at least one item, how it ended, and the error if it failed.</summary>
public readonly record struct SseConnectionResult(bool Delivered, SseConnectionEnd End, Exception? Error);

/// <summary>What a <see cref="SseSubscription{T}"/> asks of the code that consumes one stream.</summary>
public interface ISseSubscriber<T>
    where T : class
{
    /// <summary>A fresh request for each connection.</summary>
    HttpRequestMessage CreateRequest();

    /// <summary>The item one event carries, or null to skip the event (another event type, unreadable data).</summary>
    T? Parse(string eventType, ReadOnlySpan<byte> data);

    /// <summary>Handles one item; true when it counts as delivered (the connection works and backoff starts over).</summary>
    bool OnItem(SseItem<T> item, bool firstOnConnection);

    /// <summary>Called on every read that returned bytes, keep-alive comments included: a sign of life.</summary>
    void OnActivity();

    /// <summary>Called after each connection, before the reconnect delay.</summary>
    void OnConnectionEnded(SseConnectionResult result);
}

/// <summary>
/// Follows one server-sent-events stream for as long as the host runs: connects, hands every item to its
/// <see cref="ISseSubscriber{T}"/>, drops a stream silent past the idle timeout, and reconnects with exponential
/// backoff and jitter (started over after a connection that delivered). Never throws out of <see cref="RunAsync"/>
/// but on cancellation: a consumer rides out any outage on what it last received (fail static).
/// </summary>
public sealed class SseSubscription<T>(HttpClient client, SseSubscriptionOptions options, TimeProvider timeProvider, Random random)
    where T : class
{
    private CancellationTokenSource? _connection;
    private volatile bool _dropRequested;

    public async Task RunAsync(ISseSubscriber<T> subscriber, CancellationToken stoppingToken)
    {
        var backoff = new ReconnectBackoff(options.ReconnectDelay, options.MaxReconnectDelay, random);
        while (!stoppingToken.IsCancellationRequested)
        {
            SseConnectionResult result;
            try
            {
                result = await ConnectOnceAsync(subscriber, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            subscriber.OnConnectionEnded(result);
            if (result.Delivered)
            {
                backoff.Reset();
            }

            try
            {
                await Task.Delay(backoff.Next(), timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Drops the open connection, if any; the subscription reconnects after its usual delay.</summary>
    public void DropConnection()
    {
        _dropRequested = true;
        try
        {
            Volatile.Read(ref _connection)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The connection ended meanwhile; the next one starts afresh anyway.
        }
    }

    private async Task<SseConnectionResult> ConnectOnceAsync(ISseSubscriber<T> subscriber, CancellationToken stoppingToken)
    {
        // Re-armed on every read: the server sends a comment on an idle stream, so silence means a dead connection
        // (e.g. a half-open socket after a network partition) that TCP alone may not report for minutes.
        var idleTimeout = options.EffectiveIdleTimeout;
        using var connection = new CancellationTokenSource(Timeout.InfiniteTimeSpan, timeProvider);
        using var stopping = stoppingToken.Register(static state => ((CancellationTokenSource)state!).Cancel(), connection);
        _dropRequested = false;
        Volatile.Write(ref _connection, connection);
        connection.CancelAfter(idleTimeout);

        var delivered = false;
        try
        {
            using var request = subscriber.CreateRequest();
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, connection.Token)
                .ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException(
                    $"RolloutApi answered {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
            }

            var body = await response.Content.ReadAsStreamAsync(connection.Token).ConfigureAwait(false);
            await using var watched = new ReadActivityStream(body, () =>
            {
                connection.CancelAfter(idleTimeout);
                subscriber.OnActivity();
            });
            var parser = SseParser.Create(watched, subscriber.Parse);
            await foreach (var item in parser.EnumerateAsync(connection.Token).ConfigureAwait(false))
            {
                if (item.Data is { } data
                    && subscriber.OnItem(new SseItem<T>(data, item.EventType) { EventId = item.EventId }, firstOnConnection: !delivered))
                {
                    delivered = true;
                }
            }

            return new SseConnectionResult(delivered, SseConnectionEnd.Completed, null);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException) when (connection.IsCancellationRequested)
        {
            return new SseConnectionResult(delivered, _dropRequested ? SseConnectionEnd.Dropped : SseConnectionEnd.IdleTimeout, null);
        }
        #pragma warning disable CA1031 // any failure is an outage to ride out, reported in the result
        catch (Exception ex)
        #pragma warning restore CA1031
        {
            // Any failure is an outage to ride out: a background service that threw would stop its host.
            return new SseConnectionResult(delivered, SseConnectionEnd.Failed, ex);
        }
        finally
        {
            Interlocked.CompareExchange(ref _connection, null, connection);
        }
    }
}
