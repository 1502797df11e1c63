
using RolloutApi.Model;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts.Analysis;

/// <summary>
/// Keeps runs in step with their rollout, in the transition's own transaction: a rollout that ends (promoted, aborted)
/// cancels its running runs; a rollout that moves to another step cancels the running step run it leaves behind.
/// </summary>
internal sealed class AnalysisTransitionParticipant(AnalysisStore store) : ITransitionParticipant
{
    public async Task OnTransitionAsync(TransitionContext context, CancellationToken cancellationToken)
    {
        var transition = context.Transition;
        if (transition.RolloutId is not { } rolloutId || transition.From is null)
        {
            return;
        }

        if (transition.To.State is { } state && Enum.TryParse<RolloutState>(state, out var to) && !to.IsActive())
        {
            await store.CancelRunningAsync(context.Work, rolloutId, $"Rollout {to}: {transition.Reason}", keep: null, cancellationToken);
        }
        else if (transition.From.Step != transition.To.Step)
        {
            await store.CancelStepRunsAsync(context.Work, rolloutId, $"The rollout left step {transition.From.Step}: {transition.Reason}", keep: -1, cancellationToken);
        }
    }
}
