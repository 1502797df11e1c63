using System.Diagnostics;
using System.Net;
using AgentAspire.Contracts;

namespace RolloutApi.Tests.Faults;

/// <summary>
/// Open-loop load for the fault tests: request i starts at i / rate seconds whatever the earlier ones are doing, round
/// robin over the clients, until the duration passes or the caller stops it. Each request is a work item with its own id
/// (<c>load-{i}</c>) posted to the agent through a gateway; each result is the status, the agent's own answer and the
/// instance the agent stamped on it (<c>X-Agent-Instance</c>). A transport error counts as a failure (status 0), never
/// retried: the clients are plain <see cref="SocketsHttpHandler"/>s.
/// </summary>
internal static class OpenLoad
{
    public static async Task<List<LoadResult>> RunAsync(HttpClient[] clients, int rate, TimeSpan duration, CancellationToken stop = default)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var clock = Stopwatch.StartNew();
        var pending = new List<Task<LoadResult>>(total);
        for (var i = 0; i < total && !stop.IsCancellationRequested; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate);
            if (due > clock.Elapsed)
            {
                try
                {
                    await Task.Delay(due - clock.Elapsed, stop); // pacing the load generator
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }
            }

            pending.Add(SendAsync(clients[i % clients.Length], $"load-{i}"));
        }

        return [.. await Task.WhenAll(pending)];
    }

    private static async Task<LoadResult> SendAsync(HttpClient client, string id)
    {
        var sentAt = Stopwatch.GetTimestamp();
        try
        {
            using var request = WorkItems.Post(id);
            using var response = await client.SendAsync(request);
            var instance = response.Headers.TryGetValues(AgentHeaders.Instance, out var values) ? values.FirstOrDefault() : null;
            return new LoadResult(id, sentAt, response.StatusCode, await response.Content.ReadAsStringAsync(), instance);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            // Refused, reset, or no answer within the client's timeout: a failed request either way.
            return new LoadResult(id, sentAt, 0, ex.Message, null);
        }
    }
}

/// <summary>One request of the load: its item id, when it was sent (a <see cref="Stopwatch"/> timestamp), and what came back.</summary>
internal sealed record LoadResult(string Id, long SentAt, HttpStatusCode Status, string Body, string? Instance)
{
    public bool Ok => Status == HttpStatusCode.OK;

    /// <summary>The agent's answer; only for a 200.</summary>
    public AgentAnswer Answer => AgentAnswer.Parse(Body);
}
