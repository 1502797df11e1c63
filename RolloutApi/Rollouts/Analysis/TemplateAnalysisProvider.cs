
using RolloutApi.Model;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts.Analysis;

/// <summary>
/// The provider behind <c>{"analysis": {"template": "name"}}</c>: one run per step attempt (a resume starts a new one), measured
/// every interval until the template's count, failure limit or inconclusive limit decides. Until then it asks the engine to
/// come back when the next measurement is due.
/// </summary>
public sealed class TemplateAnalysisProvider(SqliteDatabase database, AnalysisStore store, AnalysisTemplates templates, AnalysisRunner runner)
    : IAnalysisProvider
{
    public const string ProviderName = "template";

    public string Name => ProviderName;

    public async Task<AnalysisResult> AnalyzeAsync(AnalysisRequest request, CancellationToken cancellationToken)
    {
        var name = request.Template ?? throw new InvalidOperationException("The template provider needs a step that names a template.");
        AnalysisRunRow? run;
        await using (var session = await database.ReadAsync(cancellationToken))
        {
            run = await store.FindRunAsync(session, request.RolloutId, AnalysisRunKind.Step, request.StepIndex, request.RolloutVersion, cancellationToken);
        }

        if (run is null)
        {
            await using var work = await database.BeginAsync(cancellationToken);
            var template = await templates.ResolveAsync(work, request.Agent, name, null, cancellationToken)
                ?? throw new InvalidOperationException($"Analysis template '{name}' of agent '{request.Agent}' does not exist.");
            run = await store.EnsureRunAsync(work, request.RolloutId, AnalysisRunKind.Step, request.StepIndex, request.RolloutVersion, template, cancellationToken);
            await store.CancelStepRunsAsync(work, request.RolloutId, $"Superseded by run {run.Id}.", run.Id, cancellationToken);
            await work.CommitAsync(cancellationToken);
        }

        var context = new MeasurementContext(
            request.Agent, request.RolloutId, new RevisionSpecView(request.Stable.Number, request.Stable.Version),
            new RevisionSpecView(request.Canary.Number, request.Canary.Version), request.Weight, request.Since, request.Now);
        var (advanced, next) = await runner.AdvanceAsync(run, context, cancellationToken);
        var summary = $"run {advanced.Id} ({advanced.Template} v{advanced.TemplateVersion}): {advanced.Summary}";
        return advanced.State switch
        {
            AnalysisRunState.Running => new AnalysisResult(AnalysisVerdict.Inconclusive, summary) { RecheckAt = next },
            AnalysisRunState.Pass => new AnalysisResult(AnalysisVerdict.Pass, summary),
            AnalysisRunState.Fail => new AnalysisResult(AnalysisVerdict.Fail, summary),
            _ => new AnalysisResult(AnalysisVerdict.Inconclusive, summary),
        };
    }
}
