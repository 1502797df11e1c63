using AgentAspire.Contracts;
using RolloutApi.Model;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts.Analysis;

/// <summary>What the background analysis says about an active rollout on this pass.</summary>
/// <param name="Verdict">Fail (abort now) or Inconclusive (pause for a human); null while it runs.</param>
/// <param name="Holding">The newest measurement was inconclusive: the rollout does not advance until the data is there.</param>
/// <param name="Due">When the next measurement is due.</param>
public sealed record BackgroundDecision(AnalysisVerdict? Verdict, bool Holding, DateTimeOffset? Due, string Summary, long RunId, string Template);

/// <summary>
/// A rollout's background analysis (Argo Rollouts' <c>spec.strategy.canary.analysis</c>): a template measured every interval
/// from the first step that sends the canary traffic until promotion, whatever step the rollout is at. A Fail aborts at
/// once; inconclusive measurements hold the rollout where it is and, past the inconclusive limit, pause it for a human.
/// After a resume or retry a new run starts with the same template version.
/// </summary>
public sealed class BackgroundAnalysis(
    SqliteDatabase database, AgentStore agents, RolloutStore rollouts, AnalysisStore store, AnalysisTemplates templates, AnalysisRunner runner,
    TimeProvider time)
{
    /// <summary>Starts the background run of a new rollout, in the transaction that starts it. Null when the template does not exist.</summary>
    public async Task<AnalysisRunRow?> StartAsync(UnitOfWork work, RolloutRecord rollout, string template, CancellationToken cancellationToken)
    {
        var resolved = await templates.ResolveAsync(work, rollout.Agent, template, null, cancellationToken);
        return resolved is null
            ? null
            : await store.EnsureRunAsync(work, rollout.Id, AnalysisRunKind.Background, -1, rollout.Version, resolved, cancellationToken);
    }

    /// <summary>Records, in the transition's transaction, that the rollout acted on run <paramref name="runId"/>'s verdict.</summary>
    public Task ActedOnAsync(UnitOfWork work, long runId, CancellationToken cancellationToken) => store.MarkActedOnAsync(work, runId, cancellationToken);

    /// <summary>Measures if due; null when the rollout runs no background analysis (or sends the canary nothing yet).</summary>
    public async Task<BackgroundDecision?> CheckAsync(RolloutRecord rollout, CancellationToken cancellationToken)
    {
        AnalysisRunRow? run;
        MeasurementContext context;
        await using (var session = await database.ReadAsync(cancellationToken))
        {
            run = await store.LatestBackgroundRunAsync(session, rollout.Id, cancellationToken);
            if (run is null)
            {
                return null;
            }

            // A verdict not yet acted on (e.g. the process died between the run's Fail and the abort): act on it now.
            if (run.State is AnalysisRunState.Fail or AnalysisRunState.Inconclusive && !run.ActedOn)
            {
                return Decision(run, null);
            }

            // At 0 % the canary has no traffic yet; at 100 % stable has none to compare it with. Neither measures nor holds.
            var agent = (await agents.GetAgentAsync(session, rollout.Agent, cancellationToken))!;
            if (agent.Weight is 0 or Weights.Max)
            {
                return null;
            }

            var stable = (await agents.GetRevisionAsync(session, rollout.Agent, agent.StableRevision, cancellationToken))!;
            var canary = (await agents.GetRevisionAsync(session, rollout.Agent, rollout.ToRevision, cancellationToken))!;
            var since = await rollouts.LastWeightChangeAsync(session, rollout.Id, cancellationToken) ?? rollout.StepStartedAt;
            context = new MeasurementContext(rollout.Agent, rollout.Id, new RevisionSpecView(stable.Number, stable.Version),
                new RevisionSpecView(canary.Number, canary.Version), agent.Weight, since, time.GetUtcNow());
        }

        if (run.Finished)
        {
            // The rollout moved on since that verdict (resumed or retried): a new episode with the same template version.
            await using var work = await database.BeginAsync(cancellationToken);
            var template = new AnalysisTemplateView(rollout.Agent, run.Template, run.TemplateVersion, run.TemplateVersion == 0, null, string.Empty, run.Document);
            run = await store.EnsureRunAsync(work, rollout.Id, AnalysisRunKind.Background, -1, rollout.Version, template, cancellationToken);
            await work.CommitAsync(cancellationToken);
        }

        var (advanced, next) = await runner.AdvanceAsync(run, context, cancellationToken);
        bool holding;
        await using (var session = await database.ReadAsync(cancellationToken))
        {
            var (verdicts, _) = await store.VerdictsAsync(session, advanced.Id, cancellationToken);
            holding = verdicts.Count == 0 || verdicts[^1] == AnalysisVerdict.Inconclusive;
        }

        return Decision(advanced, next) with { Holding = holding && !advanced.Finished };
    }

    private static BackgroundDecision Decision(AnalysisRunRow run, DateTimeOffset? next) => new(
        run.State switch
        {
            AnalysisRunState.Fail => AnalysisVerdict.Fail,
            AnalysisRunState.Inconclusive => AnalysisVerdict.Inconclusive,
            _ => null,
        },
        false, next, $"run {run.Id} ({run.Template} v{run.TemplateVersion}): {run.Summary}", run.Id, run.Template);
}
