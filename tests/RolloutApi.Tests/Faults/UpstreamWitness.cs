using System.Collections.Concurrent;
using System.Text.Json;
using AgentAspire.Contracts;
using AgentAspire.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace RolloutApi.Tests.Faults;

/// <summary>
/// The upstream the agents call (AgentWorker's <c>Worker:UpstreamUrl</c>), on a loopback Kestrel server: it answers 200
/// and records each call's item id and calling track. What it saw is the agents' own behaviour, seen from outside them:
/// which agents called out at all (their <c>UpstreamCalls</c> flag), and whether any item ran twice.
/// </summary>
/// <remarks>
/// In-process rather than a real UpstreamApi process: the upstream is not under test, and UpstreamApi's simulated latency
/// and failures would only add noise; this one counts exactly and costs no process start.
/// </remarks>
public sealed class UpstreamWitness : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, int> _byItem = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _byTrack = new(StringComparer.Ordinal);
    private LoopbackServer _server = null!;
    private int _calls;

    public Uri Address => new(_server.Address, "work");

    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Calls per item id: an id seen twice is an item an agent processed twice.</summary>
    public IReadOnlyDictionary<string, int> ByItem => _byItem;

    /// <summary>Calls per calling track (the agent's <c>X-Agent-Track</c>).</summary>
    public int CallsFrom(string track) => _byTrack.GetValueOrDefault(track);

    public static async Task<UpstreamWitness> StartAsync()
    {
        var witness = new UpstreamWitness();
        witness._server = await LoopbackServer.StartAsync(app => app.Run(context => witness.RecordAsync(context)));
        return witness;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task RecordAsync(HttpContext context)
    {
        using var item = await JsonDocument.ParseAsync(context.Request.Body);
        _byItem.AddOrUpdate(item.RootElement.GetProperty("id").GetString() ?? "", 1, (_, n) => n + 1);
        _byTrack.AddOrUpdate(context.Request.Headers[AgentHeaders.Track].ToString(), 1, (_, n) => n + 1);
        Interlocked.Increment(ref _calls);
        context.Response.StatusCode = StatusCodes.Status200OK;
    }
}
