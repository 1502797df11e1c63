using System.Reflection;
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
/// </remarks>
public sealed class EventStreamResult<T>(IAsyncEnumerable<T> items, string eventName, Func<T, long> idOf, TimeSpan heartbeat, TimeProvider time)
    : IResult, IEndpointMetadataProvider
{
    public const string ContentType = "text/event-stream";
    private static readonly byte[] Heartbeat = Encoding.UTF8.GetBytes(": keep-alive\n\n");

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
        // Compact JSON has no raw newlines (they are escaped inside strings), so a snapshot fits one data line.
        var data = JsonSerializer.Serialize(item, json);
        var frame = $"event: {eventName}\nid: {idOf(item)}\ndata: {data}\n\n";
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(frame), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
