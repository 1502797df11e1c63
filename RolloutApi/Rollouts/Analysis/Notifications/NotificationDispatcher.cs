using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts.Analysis.Notifications;

/// <summary>
/// Delivers the outbox: each due event is POSTed to its webhook as a structured CloudEvent, signed with HMAC-SHA256
/// (<c>X-AgentAspire-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex of HMAC(secret, "&lt;t&gt;.&lt;body&gt;")&gt;</c>). A failure (no
/// answer, non-2xx) is retried with exponential backoff; after <see cref="NotificationOptions.MaxAttempts"/> it stays in the
/// outbox as Dead with its last error. Delivery is at least once: receivers dedupe on the event id.
/// </summary>
internal sealed partial class NotificationDispatcher(
    SqliteDatabase database, Outbox outbox, IHttpClientFactory httpClientFactory, IOptionsMonitor<NotificationOptions> options,
    TimeProvider time, ILogger<NotificationDispatcher> logger) : BackgroundService
{
    public const string HttpClientName = "notifications";
    public const string SignatureHeader = "X-AgentAspire-Signature";
    private const int Batch = 50;

    private readonly SemaphoreSlim _wake = new(0, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        outbox.Written += Wake;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await DeliverDueAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    Log.PassFailed(logger, ex);
                }

                try
                {
                    await _wake.WaitAsync(options.CurrentValue.PollInterval, stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
            }
        }
        finally
        {
            outbox.Written -= Wake;
        }
    }

    /// <summary>One pass: every due event once. Internal so tests can drive it.</summary>
    internal async Task DeliverDueAsync(CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        List<(long Id, string Webhook, string Body, int Attempts)> due = [];
        await using (var session = await database.ReadAsync(cancellationToken))
        {
            await using var command = session.Command("""
                SELECT id, webhook, body, attempts FROM notification_outbox
                WHERE state = 'Pending' AND next_attempt_at <= $now ORDER BY id LIMIT $limit
                """).With("$now", time.GetUtcNow()).With("$limit", Batch);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                due.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3)));
            }
        }

        foreach (var (id, webhook, body, attempts) in due)
        {
            string? error = null;
            if (!settings.Webhooks.TryGetValue(webhook, out var target) || target.Url is null)
            {
                error = $"Webhook '{webhook}' is no longer configured.";
            }
            else
            {
                error = await SendAsync(target, body, settings.Timeout, cancellationToken);
            }

            await using var work = await database.BeginAsync(cancellationToken);
            var attempt = attempts + 1;
            var state = error is null ? "Delivered" : attempt >= settings.MaxAttempts || target is null ? "Dead" : "Pending";
            var backoff = TimeSpan.FromTicks(Math.Min(settings.MaxBackoff.Ticks, settings.InitialBackoff.Ticks * (1L << Math.Min(attempt - 1, 30))));
            await using var update = work.Command("""
                UPDATE notification_outbox
                SET attempts = $attempts, state = $state, last_error = $error, next_attempt_at = $next,
                    delivered_at = CASE WHEN $state = 'Delivered' THEN $now ELSE NULL END
                WHERE id = $id
                """).With("$id", id).With("$attempts", attempt).With("$state", state).With("$error", error)
                .With("$next", work.Now + backoff).With("$now", work.Now);
            await update.ExecuteNonQueryAsync(cancellationToken);
            await work.CommitAsync(cancellationToken);
            if (error is not null)
            {
                Log.DeliveryFailed(logger, webhook, id, attempt, error);
            }
        }
    }

    /// <summary>The signature header's value for <paramref name="body"/> at <paramref name="timestamp"/>.</summary>
    public static string Sign(string secret, long timestamp, string body)
    {
        var payload = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{timestamp}.{body}"));
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), payload);
        return string.Create(CultureInfo.InvariantCulture, $"t={timestamp},v1={Convert.ToHexStringLower(mac)}");
    }

    private async Task<string?> SendAsync(WebhookOptions target, string body, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            using var request = new HttpRequestMessage(HttpMethod.Post, target.Url)
            {
                Content = new StringContent(body, Encoding.UTF8, CloudEvent.MediaType),
            };
            request.Headers.Add(SignatureHeader, Sign(target.Secret, time.GetUtcNow().ToUnixTimeSeconds(), body));
            using var response = await httpClientFactory.CreateClient(HttpClientName).SendAsync(request, deadline.Token);
            return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return ex.Message;
        }
    }

    private void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already awake.
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3150, Level = LogLevel.Error, Message = "Notification pass failed; trying again")]
        public static partial void PassFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 3151, Level = LogLevel.Warning, Message = "Notification {OutboxId} to webhook {Webhook} failed (attempt {Attempt}): {Error}")]
        public static partial void DeliveryFailed(ILogger logger, string webhook, long outboxId, int attempt, string error);
    }
}
