using Microsoft.Extensions.Options;
using RolloutApi.Model;
using RolloutApi.Rollouts.Analysis;
using RolloutApi.Rollouts.Infrastructure;
using RolloutApi.Rollouts.Transitions;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts.Reconciling;

/// <summary>
/// Asks an analysis step's provider for a verdict (outside any transaction, with a timeout) and turns a verdict into a
/// transition: Pass enters the next step, Fail aborts, Inconclusive holds. The background analysis' verdicts are acted on
/// the same way. "Could not ask" is not a verdict: the step stays where it is and is asked again on the next pass.
/// </summary>
public sealed partial class StepAnalysis(
    SqliteDatabase database,
    AgentStore agents,
    RolloutStore rollouts,
    RolloutTransitions transitions,
    AnalysisProviders analysis,
    BackgroundAnalysis background,
    IOptions<AnalysisOptions> options,
    TimeProvider time,
    ILogger<StepAnalysis> logger)
{
    /// <summary>The provider's result, or null when it could not be asked (logged; asked again on the next pass).</summary>
    public async Task<AnalysisResult?> AnalyzeAsync(RolloutRecord rollout, AnalysisStep step, CancellationToken cancellationToken)
    {
        var provider = analysis.For(step);
        try
        {
            AnalysisRequest request;
            await using (var session = await database.ReadAsync(cancellationToken))
            {
                var agentRecord = (await agents.GetAgentAsync(session, rollout.Agent, cancellationToken))!;
                var stable = await agents.GetRevisionAsync(session, rollout.Agent, agentRecord.StableRevision, cancellationToken);
                var canary = await agents.GetRevisionAsync(session, rollout.Agent, rollout.ToRevision, cancellationToken);
                var since = await rollouts.LastWeightChangeAsync(session, rollout.Id, cancellationToken) ?? rollout.StepStartedAt;
                request = new AnalysisRequest(rollout.Agent, rollout.Id, rollout.StepIndex, stable!.ToSpec(), canary!.ToSpec(),
                    agentRecord.Weight, since, time.GetUtcNow())
                {
                    Template = step.Template,
                    RolloutVersion = rollout.Version,
                };
            }

            using var timeout = new CancellationTokenSource(options.Value.Timeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            return await provider.AnalyzeAsync(request, linked.Token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // "Could not ask" is not a verdict: stay Analyzing and ask again on the next pass.
            Log.AnalysisFailed(logger, provider.Name, rollout.Agent, rollout.Id, ex);
            return null;
        }
    }

    /// <summary>Stores the run and acts on an analysis step's verdict.</summary>
    public async Task<RolloutRecord> ApplyAsync(
        UnitOfWork work, RolloutRecord rollout, AnalysisStep step, AnalysisResult result, CancellationToken cancellationToken)
    {
        var providerName = analysis.For(step).Name;
        await rollouts.InsertAnalysisRunAsync(work, new AnalysisRunRecord(
            0, rollout.Id, rollout.StepIndex, providerName, result.Verdict, result.Summary, work.Now), cancellationToken);
        var summary = $"Analysis ({providerName}) {result.Verdict}: {result.Summary.TrimEnd('.', ' ')}";
        return result.Verdict switch
        {
            AnalysisVerdict.Pass => await transitions.EnterAsync(work, rollout, rollout.StepIndex + 1, TransitionActions.StepEntered, SystemActors.Reconciler,
                $"{summary}; {RolloutTransitions.Entering(rollout, rollout.StepIndex + 1)}.", cancellationToken),
            AnalysisVerdict.Fail => await transitions.AbortAsync(work, rollout, SystemActors.Reconciler, summary, cancellationToken),
            _ => await transitions.HoldInconclusiveAsync(work, rollout,
                $"{summary}; held: resume to re-run the analysis, promote to skip it.", cancellationToken),
        };
    }

    /// <summary>Acts on the background analysis' verdict: Fail aborts, anything else holds.</summary>
    public async Task<RolloutRecord> ApplyBackgroundAsync(
        UnitOfWork work, RolloutRecord rollout, BackgroundDecision check, AnalysisVerdict verdict, CancellationToken cancellationToken)
    {
        await background.ActedOnAsync(work, check.RunId, cancellationToken);
        var summary = $"Background analysis ({check.Template}) {verdict}: {check.Summary.TrimEnd('.', ' ')}";
        return verdict == AnalysisVerdict.Fail
            ? await transitions.AbortAsync(work, rollout, SystemActors.Reconciler, AuditReasons.Truncate(summary), cancellationToken)
            : await transitions.HoldInconclusiveAsync(work, rollout,
                AuditReasons.Truncate($"{summary}; held: resume to analyse again, promote to skip the step, or abort."), cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3010, Level = LogLevel.Warning, Message = "Analysis provider {Provider} failed for rollout {RolloutId} of {Agent}; asking again later")]
        public static partial void AnalysisFailed(ILogger logger, string provider, string agent, long rolloutId, Exception exception);
    }
}
