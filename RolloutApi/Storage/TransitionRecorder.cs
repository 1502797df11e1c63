using System.Diagnostics.Metrics;
using RolloutApi.Hosting;
using RolloutApi.Model;

namespace RolloutApi.Storage;

/// <summary>Writes a transition's audit entry and lets every <see cref="ITransitionParticipant"/> join the same transaction.</summary>
public sealed class TransitionRecorder(IEnumerable<ITransitionParticipant> participants, IMeterFactory meters)
{
    private readonly ITransitionParticipant[] _participants = [.. participants];
    private readonly Counter<long> _transitions = meters.Create(RolloutApiTelemetry.MeterName)
        .CreateCounter<long>(RolloutApiTelemetry.TransitionsCounter, description: "Committed audited transitions.");

    /// <summary>Records <paramref name="transition"/> in <paramref name="work"/>; returns the audit entry's id.</summary>
    public async Task<long> RecordAsync(UnitOfWork work, Transition transition, CancellationToken cancellationToken)
    {
        await using var insert = work.Command("""
            INSERT INTO audit (agent, at, actor, action, reason, rollout_id,
                               from_state, from_step, from_weight, to_state, to_step, to_weight)
            VALUES ($agent, $at, $actor, $action, $reason, $rollout,
                    $fromState, $fromStep, $fromWeight, $toState, $toStep, $toWeight)
            RETURNING id
            """)
            .With("$agent", transition.Agent)
            .With("$at", work.Now)
            .With("$actor", transition.Actor)
            .With("$action", transition.Action)
            .With("$reason", transition.Reason)
            .With("$rollout", transition.RolloutId)
            .With("$fromState", transition.From?.State)
            .With("$fromStep", transition.From?.Step)
            .With("$fromWeight", transition.From?.Weight)
            .With("$toState", transition.To.State)
            .With("$toStep", transition.To.Step)
            .With("$toWeight", transition.To.Weight);
        var auditId = await insert.ScalarInt64Async(cancellationToken);
        work.OnCommitted(() => _transitions.Add(1,
            new KeyValuePair<string, object?>(RolloutApiTelemetry.AgentTag, transition.Agent),
            new KeyValuePair<string, object?>(RolloutApiTelemetry.ActionTag, transition.Action)));

        if (_participants.Length > 0)
        {
            var context = new TransitionContext(work, auditId, transition, await ReadAssignmentAsync(work, transition.Agent, cancellationToken));
            foreach (var participant in _participants)
            {
                await participant.OnTransitionAsync(context, cancellationToken);
            }
        }

        return auditId;
    }

    private static async Task<TrackAssignment> ReadAssignmentAsync(UnitOfWork work, string agent, CancellationToken cancellationToken)
    {
        await using var command = work.Command($"""
            SELECT a.stable_revision, r.to_revision, a.weight
            FROM agents a
            LEFT JOIN rollouts r ON r.agent = a.name AND r.state IN ({RolloutStates.ActiveSqlList})
            WHERE a.name = $agent
            """).With("$agent", agent);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new InvalidOperationException($"Agent '{agent}' disappeared inside its own transaction.");
        }

        return new TrackAssignment(reader.GetInt32(0), reader.GetNullableInt32(1), reader.GetInt32(2));
    }
}
