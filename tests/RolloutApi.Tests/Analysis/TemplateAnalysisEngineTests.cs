using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using RolloutApi.Http;
using RolloutApi.Model;
using RolloutApi.Rollouts.Analysis;
using RolloutApi.Rollouts.Analysis.Judges;
using RolloutApi.Storage;
using RolloutApi.Tests.Infrastructure;
using RolloutApi.Rollouts.Analysis.Sources;

namespace RolloutApi.Tests.Analysis;

/// <summary>
/// Template analysis through the real engine (production wiring, SQLite file, fake clock) with a scripted metric source:
/// a background Fail aborts in the same pass with weight 0; no data holds and then pauses, never aborts; a step run passes
/// on data; every measurement is stored with its numbers.
/// </summary>
public sealed class TemplateAnalysisEngineTests : IAsyncLifetime
{
    private const string Agent = RolloutApiFactory.Agent;
    private static readonly CancellationToken None = CancellationToken.None;
    private EngineHost _host = null!;

    public async Task InitializeAsync() => _host = await EngineHost.StartAsync(services => services.AddMetricSource<ScriptedMetricSource>());

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private ScriptedMetricSource Source => _host.Services.GetServices<IMetricSource>().OfType<ScriptedMetricSource>().Single();

    private static AnalysisTemplate ErrorsTemplate(int inconclusiveLimit = 3, int count = 1) => new(
        [new MetricSpec("errors", ScriptedMetricSource.SourceName, GatewayQueries.Errors, SequentialJudge.JudgeName, Alpha: 0.01)],
        IntervalSeconds: 5, Count: count, FailureLimit: 0, InconclusiveLimit: inconclusiveLimit, MinSamples: 50);

    [Fact]
    public async Task Background_fail_aborts_at_once_with_weight_0_and_the_run_keeps_every_measurement()
    {
        await SaveAsync("errors", ErrorsTemplate());
        var revision = await _host.CreateRevisionAsync("2.0.0");
        await StartAsync(revision, [RolloutStep.Weight(1_000), RolloutStep.PauseFor(TimeSpan.FromMinutes(10))], "errors");

        // Healthy first: 100 canary requests, no error on either track.
        Source.Next = Healthy(canary: 100, stable: 900);
        await _host.DriveAsync(s => s.CurrentStepIndex == 1);
        Assert.Equal(1_000, _host.RoutedWeight);

        // Then the canary fails 20 % of its requests.
        Source.Next = ScriptedMetricSource.Of(Track(900, 0), Track(200, 40));
        _host.Time.Advance(TimeSpan.FromSeconds(5));
        var status = await _host.DriveAsync(s => !s.State.IsActive());

        Assert.Equal(RolloutState.Aborted, status.State);
        Assert.Equal(0, _host.RoutedWeight);
        var audit = await _host.AuditAsync(status.Id);
        Assert.Empty(AuditChain.Problems(audit));
        var abort = audit[^1];
        Assert.Equal(TransitionActions.Aborted, abort.Action);
        Assert.Equal(SystemActors.Reconciler, abort.Actor);
        Assert.Contains("Background analysis (errors) Fail", abort.Reason, StringComparison.Ordinal);
        Assert.Equal(0, abort.To.Weight);

        var runs = await RunsAsync(status.Id);
        var run = Assert.Single(runs);
        Assert.Equal(AnalysisRunKind.Background, run.Kind);
        Assert.Equal(AnalysisRunState.Fail, run.State);
        Assert.Equal(AnalysisVerdict.Fail, run.Measurements[^1].Verdict);
        Assert.Equal(Enumerable.Range(1, run.Measurements.Count), run.Measurements.Select(m => m.Number));
        var failed = run.Measurements[^1].Metrics.Single();
        Assert.Equal(40, failed.Sample!.Canary.Errors);
        Assert.Equal(1_000, run.Measurements[^1].Weight);
    }

    [Fact]
    public async Task No_traffic_is_inconclusive_holds_the_rollout_then_pauses_for_a_human_and_never_aborts()
    {
        await SaveAsync("errors", ErrorsTemplate(inconclusiveLimit: 3));
        var revision = await _host.CreateRevisionAsync("2.0.0");
        await StartAsync(revision, [RolloutStep.Weight(100), RolloutStep.PauseFor(TimeSpan.FromSeconds(10)), RolloutStep.Weight(5_000), RolloutStep.PauseUntilPromoted()], "errors");
        Source.Next = ScriptedMetricSource.Of(Track(0, 0), Track(0, 0));

        var status = await _host.DriveAsync(s => s.Hold is not null);

        Assert.Equal(RolloutState.Paused, status.State);
        Assert.Equal(RolloutHold.Inconclusive, status.Hold);
        Assert.Equal(100, _host.RoutedWeight); // held at 1 %: the pause ended long ago, but no data means no next step
        var run = Assert.Single(await RunsAsync(status.Id));
        Assert.Equal(AnalysisRunState.Inconclusive, run.State);
        Assert.Equal(4, run.Counts.ConsecutiveInconclusive);
        Assert.DoesNotContain(await _host.AuditAsync(status.Id), e => e.Action == TransitionActions.Aborted);

        // Resume with traffic: a new background run, the rollout moves on.
        Source.Next = Healthy(canary: 100, stable: 9_900);
        Assert.Null((await _host.Commands.ResumeAsync(Agent, null, Precondition.None, "tester", None)).Error);
        status = await _host.DriveAsync(s => s.CurrentStepIndex == 3);
        Assert.Equal(5_000, _host.RoutedWeight);
        Assert.Equal(2, (await RunsAsync(status.Id)).Count);
    }

    [Fact]
    public async Task A_step_naming_a_template_waits_for_data_then_passes_and_the_step_run_is_listed()
    {
        await SaveAsync("errors", ErrorsTemplate(inconclusiveLimit: 10));
        var revision = await _host.CreateRevisionAsync("2.0.0");
        await StartAsync(revision, [RolloutStep.Weight(1_000), RolloutStep.AnalyzeWith("errors"), RolloutStep.PauseUntilPromoted()], null);
        Source.Next = Healthy(canary: 10, stable: 90);
        await _host.DriveAsync(s => s.State == RolloutState.Analyzing && Source.Calls >= 2);
        Assert.Equal(1, (await _host.StatusAsync()).CurrentStepIndex);

        Source.Next = Healthy(canary: 100, stable: 900);
        var status = await _host.DriveAsync(s => s.CurrentStepIndex == 2);

        var run = Assert.Single(await RunsAsync(status.Id));
        Assert.Equal(AnalysisRunKind.Step, run.Kind);
        Assert.Equal(1, run.StepIndex);
        Assert.Equal(AnalysisRunState.Pass, run.State);
        Assert.Equal(AnalysisVerdict.Pass, run.Measurements[^1].Verdict);
        Assert.All(run.Measurements.Take(run.Measurements.Count - 1), m => Assert.Equal(AnalysisVerdict.Inconclusive, m.Verdict));
    }

    [Fact]
    public async Task Templates_are_versioned_validated_and_refuse_a_stale_if_match()
    {
        var templates = _host.Services.GetRequiredService<AnalysisTemplates>();
        var first = await templates.SaveAsync(Agent, "errors", ErrorsTemplate(), Precondition.None, "tester", None);
        var second = await templates.SaveAsync(Agent, "errors", ErrorsTemplate(count: 3), Precondition.None, "tester", None);
        Assert.Equal(1, first.Value!.Version);
        Assert.Equal(2, second.Value!.Version);
        Assert.True(Precondition.TryParse("\"1\"", out var stale));
        Assert.Equal(ErrorKind.PreconditionFailed, (await templates.SaveAsync(Agent, "errors", ErrorsTemplate(), stale, "tester", None)).Error!.Kind);
        Assert.Equal(1, (await templates.GetAsync(Agent, "errors", 2, None))!.Definition.Count is 3 ? 1 : 0);

        var bad = await templates.SaveAsync(Agent, "bad", new AnalysisTemplate(
            [new MetricSpec("x", "nope", "q", "magic"), new MetricSpec("x", "gateway", "p999", SequentialJudge.JudgeName, Alpha: 2)],
            IntervalSeconds: 0), Precondition.None, "tester", None);
        Assert.Equal(ErrorKind.Invalid, bad.Error!.Kind);
        Assert.Equal(
            ["intervalSeconds", "metrics[0].judge", "metrics[0].source", "metrics[1].alpha", "metrics[1].name", "metrics[1].query"],
            bad.Error.Errors!.Keys.Order(StringComparer.Ordinal));

        var all = await templates.ListAsync(Agent, None);
        Assert.Equal(["default", "errors"], all.Select(t => t.Name));
        Assert.True(all[0].BuiltIn);
    }

    private static MetricSample Healthy(long canary, long stable) => ScriptedMetricSource.Of(Track(stable, 0), Track(canary, 0));

    private static TrackSample Track(long requests, long errors) => new(requests, errors, errors);

    private async Task SaveAsync(string name, AnalysisTemplate template)
    {
        var outcome = await _host.Services.GetRequiredService<AnalysisTemplates>().SaveAsync(Agent, name, template, Precondition.None, "tester", None);
        Assert.Null(outcome.Error);
    }

    private async Task StartAsync(int revision, IReadOnlyList<RolloutStep> steps, string? background)
    {
        var outcome = await _host.Commands.StartAsync(Agent, revision, steps, null, Precondition.None, "tester", None, background);
        Assert.Null(outcome.Error);
    }

    private async Task<IReadOnlyList<AnalysisRunDetail>> RunsAsync(long rolloutId) =>
        (await _host.Services.GetRequiredService<AnalysisRunQueries>().ListAsync(Agent, rolloutId, None))!.Value.Runs;
}

/// <summary>A metric source whose next reading the test sets (both tracks; the agent is their sum).</summary>
public sealed class ScriptedMetricSource : IMetricSource
{
    public const string SourceName = "scripted";

    private int _calls;

    public string Name => SourceName;

    public MetricSample Next { get; set; } = Of(new TrackSample(0, 0, 0), new TrackSample(0, 0, 0));

    public int Calls => _calls;

    public ConcurrentQueue<MeasurementContext> Contexts { get; } = new();

    public static MetricSample Of(TrackSample stable, TrackSample canary) => new(
        DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, stable, canary,
        new TrackSample(stable.Requests + canary.Requests, stable.Errors + canary.Errors, stable.Errors + canary.Errors));

    public string? Check(MetricSpec metric) => null;

    public Task<MetricSample> MeasureAsync(MetricSpec metric, MeasurementContext context, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        Contexts.Enqueue(context);
        return Task.FromResult(Next);
    }
}
