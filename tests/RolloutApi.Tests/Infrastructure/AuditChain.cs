
using RolloutApi.Model;
using RolloutApi.Rollouts;
using RolloutApi.Storage;

namespace RolloutApi.Tests.Infrastructure;

/// <summary>
/// The audit log's core invariant: per rollout, entries form a chain (each entry's <c>from</c> is the previous entry's
/// <c>to</c>), so a lost transition leaves a gap and a doubled one a repeat that breaks the chain.
/// </summary>
public static class AuditChain
{
    /// <summary>Problems found (empty when every rollout's chain is intact).</summary>
    public static List<string> Problems(IEnumerable<(long Id, long? RolloutId, string Action, TransitionPoint? From, TransitionPoint To)> entries)
    {
        var problems = new List<string>();
        foreach (var rollout in entries.Where(e => e.RolloutId is not null).GroupBy(e => e.RolloutId!.Value))
        {
            var chain = rollout.OrderBy(e => e.Id).ToList();
            if (chain[0].Action is not (TransitionActions.RolloutStarted or TransitionActions.RolledBack))
            {
                problems.Add($"rollout {rollout.Key}: first entry is {chain[0].Action}");
            }

            for (var i = 1; i < chain.Count; i++)
            {
                var (previous, current) = (chain[i - 1], chain[i]);
                if (current.From is null || current.From != previous.To)
                {
                    problems.Add($"rollout {rollout.Key}: entry {current.Id} ({current.Action}) starts at {current.From} but entry {previous.Id} ended at {previous.To}");
                }

                if (current.Action == TransitionActions.StepEntered && current.To.Step != previous.To.Step + 1)
                {
                    problems.Add($"rollout {rollout.Key}: entry {current.Id} entered step {current.To.Step} after step {previous.To.Step}");
                }

                if (!RolloutStates.IsActive(Enum.Parse<RolloutState>(previous.To.State!)) && current.Action != TransitionActions.Retried)
                {
                    problems.Add($"rollout {rollout.Key}: entry {current.Id} ({current.Action}) follows final state {previous.To.State}");
                }
            }
        }

        return problems;
    }

    public static List<string> Problems(IEnumerable<AuditEntryView> entries) =>
        Problems(entries.Select(e => (e.Id, e.RolloutId, e.Action, e.From, e.To)));
}
