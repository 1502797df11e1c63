namespace AgentAspire.Agent.Flags;

/// <summary>What the stream client knows about its connection, for readiness and diagnostics.</summary>
internal sealed class FlagStreamStatus
{
    private long _startedAtTicks = -1;
    private int _connected;
    private long _connections;

    /// <summary>When the stream client started (readiness counts its timeout from here); null before.</summary>
    public DateTimeOffset? StartedAt
    {
        get
        {
            var ticks = Interlocked.Read(ref _startedAtTicks);
            return ticks < 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    /// <summary>True while a stream is open and has delivered a snapshot.</summary>
    public bool Connected => Volatile.Read(ref _connected) == 1;

    /// <summary>Stream connections that delivered a snapshot since start: 2 or more means the agent reconnected.</summary>
    public long Connections => Interlocked.Read(ref _connections);

    public void MarkStarted(DateTimeOffset now) => Interlocked.CompareExchange(ref _startedAtTicks, now.UtcTicks, -1);

    public void MarkConnected(bool connected)
    {
        if (connected)
        {
            Interlocked.Increment(ref _connections);
        }

        Volatile.Write(ref _connected, connected ? 1 : 0);
    }
}
