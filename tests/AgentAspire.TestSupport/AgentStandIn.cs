using System.Collections.Concurrent;
using AgentAspire.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AgentAspire.TestSupport;

/// <summary>
/// A real Kestrel server on 127.0.0.1 standing in for one agent track. It answers every path with its own name in the body
/// (<c>/status/{code}</c> with that status), counts what it served and records each request's path and
/// <c>traceparent</c>, so that a test learns who served from the agent's word, not from the gateway's headers. Like a real
/// agent it stamps its own identity (agent, track and an <c>X-Agent-Version</c> of its own), unless told not to.
/// </summary>
public sealed class AgentStandIn : IAsyncDisposable
{
    /// <summary>The <c>X-Agent-Version</c> a stand-in stamps: not any routing table's label, so a test sees whose it is.</summary>
    public const string VersionHeaderValue = "from-backend";

    private LoopbackServer _server = null!;
    private int _served;

    private AgentStandIn(string name, string track)
    {
        Name = name;
        Track = track;
    }

    /// <summary>What it writes in every response body.</summary>
    public string Name { get; }

    /// <summary>The track this stand-in says it is (its <c>X-Agent-Track</c>).</summary>
    public string Track { get; }

    public Uri Address => _server.Address;

    /// <summary>Requests this process answered, by its own count.</summary>
    public int Served => Volatile.Read(ref _served);

    /// <summary>The path of every request, in arrival order.</summary>
    public ConcurrentQueue<string> Paths { get; } = new();

    /// <summary>The <c>traceparent</c> each request arrived with (empty when none): the trace context the agent saw.</summary>
    public ConcurrentQueue<string> TraceParents { get; } = new();

    /// <summary>Starts a stand-in named <paramref name="name"/> that says it runs <paramref name="track"/> (default: its name).</summary>
    /// <param name="stampIdentity">False: answers without any X-Agent-* identity, as a process not built on the shared defaults.</param>
    public static async Task<AgentStandIn> StartAsync(string name, string? track = null, bool stampIdentity = true)
    {
        var agent = new AgentStandIn(name, track ?? name);
        agent._server = await LoopbackServer.StartAsync(app => app.Run(context => agent.AnswerAsync(context, stampIdentity)));
        return agent;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private Task AnswerAsync(HttpContext context, bool stampIdentity)
    {
        Interlocked.Increment(ref _served);
        Paths.Enqueue(context.Request.Path);
        TraceParents.Enqueue(context.Request.Headers.TraceParent.ToString());
        if (stampIdentity)
        {
            context.Response.Headers[AgentHeaders.Agent] = ResourceNames.DefaultAgent;
            context.Response.Headers[AgentHeaders.Track] = Track;
            context.Response.Headers[AgentHeaders.Version] = VersionHeaderValue;
        }

        var path = context.Request.Path.Value ?? "";
        if (path.StartsWith("/status/", StringComparison.Ordinal) && int.TryParse(path["/status/".Length..], out var status))
        {
            context.Response.StatusCode = status;
        }

        return context.Response.WriteAsync(Name);
    }
}
