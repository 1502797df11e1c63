using System.Diagnostics;
using System.Net;

namespace RolloutApi.Tests.Faults;

/// <summary>
/// Open-loop load for the fault tests: request i starts at i / rate seconds whatever the earlier ones are doing, round
/// robin over the clients; each result is the status and the agent's own body (who served). A transport error counts as
/// a failure (status 0), never retried: the clients are plain <see cref="SocketsHttpHandler"/>s.
/// </summary>
internal static class OpenLoad
{
    public static async Task<List<(HttpStatusCode Status, string Body)>> RunAsync(HttpClient[] clients, int rate, TimeSpan duration, string path = "/work")
    {
        var total = (int)(rate * duration.TotalSeconds);
        var clock = Stopwatch.StartNew();
        var pending = new List<Task<(HttpStatusCode, string)>>(total);
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed); // pacing the load generator
            }

            pending.Add(SendAsync(clients[i % clients.Length], path));
        }

        return [.. await Task.WhenAll(pending)];
    }

    private static async Task<(HttpStatusCode, string)> SendAsync(HttpClient client, string path)
    {
        try
        {
            using var response = await client.GetAsync(path);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException ex)
        {
            return (0, ex.Message);
        }
    }
}
