using System.Collections.Concurrent;
using AgentAspire.Contracts;
using AgentAspire.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace RolloutApi.Tests.Faults;

/// <summary>
/// The upstream the agents call (AgentWorker's <c>Worker:UpstreamUrl</c>), on a loopback Kestrel server: it answers 200
/// and counts the calls by calling track. What it saw is the agents' own behaviour, seen from outside them: whether an
/// agent called out at all, which is what its <c>UpstreamCalls</c> flag decides.
/// </summary>
/// <remarks>
/// In-process rather than a real UpstreamApi process: the upstream is not under test, and UpstreamApi's simulated latency
/// and failures would only add noise; this one counts exactly and costs no process start. It stays off the load's path:
/// the outage test expects no call while the load runs (RolloutApi's kill switch), only before and after it.
/// </remarks>
public sealed class UpstreamWitness : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, int> _byTrack = new(StringComparer.Ordinal);
    private LoopbackServer _server = null!;
    private int _calls;

    public Uri Address => new(_server.Address, "work");

    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Calls per calling track (the agent's <c>X-Agent-Track</c>).</summary>
    public int CallsFrom(string track) => _byTrack.GetValueOrDefault(track);

    public static async Task<UpstreamWitness> StartAsync()
    {
        var witness = new UpstreamWitness();
        witness._server = await LoopbackServer.StartAsync(app => app.Run(context => witness.RecordAsync(context)));
        return witness;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private Task RecordAsync(HttpContext context)
    {
        _byTrack.AddOrUpdate(context.Request.Headers[AgentHeaders.Track].ToString(), 1, (_, n) => n + 1);
        Interlocked.Increment(ref _calls);
        context.Response.StatusCode = StatusCodes.Status200OK;
        return Task.CompletedTask;
    }
}
