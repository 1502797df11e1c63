using System.Net.Http.Json;
using AgentAspire.Contracts;

namespace AppHost.Tests.WholeApp;

/// <summary>Sends the reference agent's work items through the gateway.</summary>
internal static class WorkItems
{
    private static int _next;

    public static async Task<HttpResponseMessage> SendAsync(HttpClient gateway, string? forcedTrack, string? clientId = null)
    {
        var id = Interlocked.Increment(ref _next);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/items")
        {
            Content = JsonContent.Create(new { id = $"item-{id}", kind = "text", payload = new { text = $"hello {id}" } }),
        };
        if (forcedTrack is not null)
        {
            request.Headers.Add(AgentHeaders.Track, forcedTrack);
        }

        if (clientId is not null)
        {
            request.Headers.Add(AgentHeaders.ClientId, clientId);
        }

        return await gateway.SendAsync(request).WaitAsync(AppFixture.RequestDeadline);
    }
}
