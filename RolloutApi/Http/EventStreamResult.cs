using System.Buffers;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
namespace RolloutApi.Http;

/// <summary>
/// Streams snapshots as server-sent events: <c>event: &lt;name&gt;</c>, <c>id: &lt;version&gt;</c>, <c>data: &lt;snapshot JSON&gt;</c>,
/// in the order the source yields them (the routing stream yields the current table first, then every newer one), and a
/// comment line (<c>: keep-alive</c>) whenever the stream has been quiet for the heartbeat interval.
/// </summary>
/// <remarks>
/// Written by hand rather than with <c>TypedResults.ServerSentEvents</c>: <see cref="System.Net.ServerSentEvents.SseItem{T}"/>
/// cannot express a comment, and comments are the heartbeat every SSE client ignores by definition (an event would reach
/// the gateway's handler).
/// <para>
/// Each value is encoded once, by the first stream that sends it, and the same bytes go to every other stream: the
/// broadcaster hands every subscriber the same instance, so with 1,000 agents on a track a kill switch costs one
/// serialisation instead of 1,000 (bench/scale).
/// </para>
/// </remarks>
public sealed class EventStreamResult<T>(IAsyncEnumerable<T> items, string eventName, Func<T, long> idOf, TimeSpan heartbeat, TimeProvider time)
    : IResult, IEndpointMetadataProvider
    where T : class
{
    public const string ContentType = "text/event-stream";
    private static readonly byte[] Heartbeat = Encoding.UTF8.GetBytes(": keep-alive\n\n");

    // Keyed by the value's identity and dropped with it: a value replaced in the broadcaster is collected with its frame.
    private static readonly ConditionalWeakTable<T, Frame> Frames = new();

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        // A stream never ends by itself, so a graceful shutdown must end it: otherwise Kestrel waits out its whole
        // shutdown timeout for every connected gateway and agent (which then reconnect to the next instance).
        var stopping = httpContext.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(httpContext.RequestAborted, stopping);
        var cancellationToken = ending.Token;
        var json = httpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        // Our own token, so that whatever ends the loop (client gone, write failure) also ends a pending MoveNextAsync
        // before the enumerator is disposed.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await using var enumerator = items.GetAsyncEnumerator(stop.Token);
        using var ticks = new PeriodicTimer(heartbeat, time);
        Task<bool>? next = null;
        Task<bool>? tick = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                next ??= enumerator.MoveNextAsync().AsTask();
                tick ??= ticks.WaitForNextTickAsync(stop.Token).AsTask();
                var completed = await Task.WhenAny(next, tick);
                if (completed == next)
                {
                    next = null;
                    if (!await completed)
                    {
                        return;
                    }

                    await WriteEventAsync(response, enumerator.Current, json, cancellationToken);
                }
                else
                {
                    tick = null;
                    if (!await completed)
                    {
                        return;
                    }

                    await response.Body.WriteAsync(Heartbeat, cancellationToken);
                    await response.Body.FlushAsync(cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away, or the service is stopping: the normal ends of a stream.
        }
        finally
        {
            await stop.CancelAsync();
            await Quietly(next);
            await Quietly(tick);
        }
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(T), [ContentType]));

    private static async Task Quietly(Task? pending)
    {
        if (pending is null)
        {
            return;
        }

        try
        {
            await pending;
        }
        catch (OperationCanceledException)
        {
            // Expected: cancelled by the finally block above.
        }
    }

    private async Task WriteEventAsync(HttpResponse response, T item, JsonSerializerOptions json, CancellationToken cancellationToken)
    {
        if (!Frames.TryGetValue(item, out var frame))
        {
            // Streams racing on a new value may each encode it; GetValue keeps one, and the bytes are the same.
            frame = Frames.GetValue(item, value => Encode(value, eventName, idOf(value), json));
        }

        // One event name per value type in practice; a different one is encoded for this stream alone, never cached.
        var bytes = frame.EventName == eventName ? frame.Bytes : Encode(item, eventName, idOf(item), json).Bytes;
        await response.Body.WriteAsync(bytes, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    /// <summary><c>event: …\nid: …\ndata: {json}\n\n</c> as UTF-8.</summary>
    private static Frame Encode(T item, string eventName, long id, JsonSerializerOptions json)
    {
        // Compact JSON has no raw newlines (they are escaped inside strings), so a snapshot fits one data line.
        var buffer = new ArrayBufferWriter<byte>(512);
        buffer.Write(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"event: {eventName}\nid: {id}\ndata: ")));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            JsonSerializer.Serialize(writer, item, json);
        }

        buffer.Write("\n\n"u8);
        return new Frame(eventName, buffer.WrittenSpan.ToArray());
    }

    private sealed record Frame(string EventName, byte[] Bytes);
}
