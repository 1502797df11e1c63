using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using RolloutApi.Flags;
using RolloutApi.Rollouts;

namespace RolloutApi.Live;

/// <summary>
/// Produces an agent's live frames: the agent, its newest rollout and the gateways' traffic, read together at once and
/// then once per <see cref="LiveOptions.Interval"/>. Polling (rather than subscribing to every change) keeps the traffic
/// curves evenly spaced in time and bounds the cost of a watcher to one read per interval.
/// </summary>
public sealed class LiveFeed(
    AgentQueries agents, RolloutQueries rollouts, FlagQueries flags, ITrafficReader traffic, IOptions<LiveOptions> options, TimeProvider time)
{
    /// <summary>One frame now, or null when the agent does not exist.</summary>
    public async Task<LiveSnapshot?> ReadAsync(string agent, long sequence, CancellationToken cancellationToken)
    {
        var trafficRead = traffic.ReadAsync(agent, cancellationToken);
        var view = await agents.GetAsync(agent, cancellationToken);
        var rollout = view is null ? null : await rollouts.StatusAsync(agent, id: null, cancellationToken);
        var kills = view is null ? null : await flags.GetKillsAsync(agent, cancellationToken);
        var (sample, error) = await trafficRead;
        return view is null ? null : new LiveSnapshot(sequence, time.GetUtcNow(), view, rollout, kills?.Version ?? 0, sample, error);
    }

    /// <summary>The first frame (already read by the caller), then one per interval until cancelled or the agent is gone.</summary>
    public async IAsyncEnumerable<LiveSnapshot> StreamAsync(
        string agent, LiveSnapshot first, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return first;
        using var ticks = new PeriodicTimer(options.Value.Interval, time);
        var sequence = first.Sequence;
        while (await ticks.WaitForNextTickAsync(cancellationToken))
        {
            var frame = await ReadAsync(agent, ++sequence, cancellationToken);
            if (frame is null)
            {
                yield break;
            }

            yield return frame;
        }
    }
}
