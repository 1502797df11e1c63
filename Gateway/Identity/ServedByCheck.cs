using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentAspire.Contracts;
using Gateway.Routing;
using Gateway.Stats;
using Microsoft.Extensions.Options;

namespace Gateway.Identity;

/// <summary>
/// Compares who answered a proxied request — the identity the agent process itself stamped on its response — with the
/// track the gateway sent it to. A mismatch (or a response with no identity) means routing does not reach the process
/// it names: it is counted (<c>gateway_identity_mismatches_total{expected,actual}</c> and <c>/gateway/stats</c>),
/// logged once per burst, and turns readiness Degraded for <see cref="IdentityCheckOptions.DegradedFor"/>.
/// The matching case, every request's, is two header lookups and two string compares.
/// </summary>
public sealed partial class ServedByCheck
{
    public const string MismatchesInstrument = "gateway.identity.mismatches";
    public const string ExpectedTag = "expected";
    public const string ActualTag = "actual";

    /// <summary>The <c>actual</c> label when the response carried no agent identity.</summary>
    public const string Missing = "missing";

    /// <summary>The <c>actual</c> label when the response came from another agent, or named a track that does not exist.</summary>
    public const string Other = "other";

    private static readonly string[] Actuals = [Tracks.Stable, Tracks.Canary, Missing, Other];

    private readonly TimeProvider _timeProvider;
    private readonly IdentityCheckOptions _options;
    private readonly ILogger<ServedByCheck> _logger;
    private readonly Counter<long> _mismatches;

    // [expected track][actual index]: cumulative, only grows.
    private readonly long[][] _counts = [new long[Actuals.Length], new long[Actuals.Length]];
    private long _lastMismatchTimestamp = long.MinValue;
    private Last? _last;

    public ServedByCheck(TimeProvider timeProvider, IOptions<IdentityCheckOptions> options, IMeterFactory meterFactory, ILogger<ServedByCheck> logger)
    {
        _timeProvider = timeProvider;
        _options = options.Value;
        _logger = logger;
        #pragma warning disable CA2000 // IMeterFactory owns the meters it creates and disposes them with the service provider
        _mismatches = meterFactory.Create(GatewayMetrics.MeterName).CreateCounter<long>(MismatchesInstrument, "{response}",
            "Proxied responses whose agent-written identity did not match the track the gateway chose (or was missing).");
        #pragma warning restore CA2000
    }

    /// <summary>Checks one proxied response's headers (as received from the agent) against the chosen track.</summary>
    public void Observe(string expectedAgent, Track expected, IHeaderDictionary responseHeaders)
    {
        var track = responseHeaders[AgentHeaders.Track];
        var agent = responseHeaders[AgentHeaders.Agent];
        if (track.Count == 1 && agent.Count == 1
            && string.Equals(track[0], TrackNames.Of(expected), StringComparison.Ordinal)
            && string.Equals(agent[0], expectedAgent, StringComparison.Ordinal))
        {
            return;
        }

        Record(expectedAgent, expected, ActualOf(expectedAgent, track, agent), track.ToString(), agent.ToString());
    }

    /// <summary>Whether a mismatch happened within <see cref="IdentityCheckOptions.DegradedFor"/>, and the last one.</summary>
    public (bool Recent, IdentityMismatches Summary) Status()
    {
        var lastTimestamp = Volatile.Read(ref _lastMismatchTimestamp);
        var recent = lastTimestamp != long.MinValue && _timeProvider.GetElapsedTime(lastTimestamp) < _options.DegradedFor;
        return (recent, Summarize());
    }

    public IdentityMismatches Summarize()
    {
        var pairs = new List<IdentityMismatchCount>();
        long total = 0, missing = 0;
        for (var expected = 0; expected < _counts.Length; expected++)
        {
            for (var actual = 0; actual < Actuals.Length; actual++)
            {
                var count = Volatile.Read(ref _counts[expected][actual]);
                if (count == 0)
                {
                    continue;
                }

                total += count;
                missing += Actuals[actual] == Missing ? count : 0;
                pairs.Add(new IdentityMismatchCount(TrackNames.Of((Track)expected), Actuals[actual], count));
            }
        }

        var last = Volatile.Read(ref _last);
        return new IdentityMismatches(total, missing, pairs, last?.At, last?.Expected, last?.Actual, last?.Detail);
    }

    private static string ActualOf(string expectedAgent, Microsoft.Extensions.Primitives.StringValues track, Microsoft.Extensions.Primitives.StringValues agent)
    {
        if (track.Count == 0 && agent.Count == 0)
        {
            return Missing;
        }

        if (agent.Count != 1 || !string.Equals(agent[0], expectedAgent, StringComparison.Ordinal) || track.Count != 1)
        {
            return Other;
        }

        return track[0] switch
        {
            Tracks.Stable => Tracks.Stable,
            Tracks.Canary => Tracks.Canary,
            _ => Other,
        };
    }

    private void Record(string expectedAgent, Track expected, string actual, string actualTrack, string actualAgent)
    {
        Interlocked.Increment(ref _counts[(int)expected][Array.IndexOf(Actuals, actual)]);
        var expectedName = TrackNames.Of(expected);
        _mismatches.Add(1, new TagList
        {
            { AgentTelemetryNames.AgentLabel, expectedAgent },
            { ExpectedTag, expectedName },
            { ActualTag, actual },
        });

        var detail = actual == Missing
            ? $"sent to {expectedAgent}/{expectedName}; the response carried no agent identity"
            : $"sent to {expectedAgent}/{expectedName}; answered by agent '{actualAgent}' on track '{actualTrack}'";
        Volatile.Write(ref _last, new Last(_timeProvider.GetUtcNow(), expectedName, actual, detail));

        // One log line per burst: the first mismatch after a quiet BurstGap; the rest of the burst is only counted.
        var now = _timeProvider.GetTimestamp();
        var previous = Interlocked.Exchange(ref _lastMismatchTimestamp, now);
        if (previous == long.MinValue || _timeProvider.GetElapsedTime(previous, now) >= _options.BurstGap)
        {
            Log.MismatchBurst(_logger, detail, _options.BurstGap.TotalSeconds);
        }
    }

    private sealed record Last(DateTimeOffset At, string Expected, string Actual, string Detail);

    private static partial class Log
    {
        [LoggerMessage(EventId = 2200, Level = LogLevel.Warning, Message =
            "Routing does not reach the process it names: {Detail}. Further mismatches are counted (gateway_identity_mismatches_total, /gateway/stats) and logged again after {BurstGapSeconds} s without one.")]
        public static partial void MismatchBurst(ILogger logger, string detail, double burstGapSeconds);
    }
}
