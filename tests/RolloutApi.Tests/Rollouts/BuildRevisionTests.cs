using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RolloutApi.Http;
using RolloutApi.Model;
using RolloutApi.Rollouts;
using RolloutApi.Storage;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Rollouts;

/// <summary>
/// A revision that names a local build: stored with it, refused when the driver cannot run it, and — when moving the stable
/// track onto another build restarts its process — promoted and undone only after all traffic went to the canary.
/// </summary>
public sealed class BuildRevisionTests : IAsyncLifetime
{
    private const string Agent = RolloutApiFactory.Agent;
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly string Build = new string('b', 64);
    private EngineHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await EngineHost.StartAsync();
        _host.Driver.RunsBuilds = true;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Promotion_to_another_build_drains_stable_through_the_canary_before_the_stable_track_restarts()
    {
        var revision = await CreateAsync("2.0.0", Build);
        await _host.StartRolloutAsync(revision, [RolloutStep.Weight(1_000), RolloutStep.PauseUntilPromoted()]);
        await _host.DriveAsync(s => s.CurrentStepIndex == 1);
        Assert.Contains($"deploy canary r{revision} build bbbbbbbb at weight 0", _host.Driver.Calls);

        await _host.Commands.PromoteFullAsync(Agent, null, Precondition.None, "tester", None);
        var done = await _host.DriveAsync(s => s.State == RolloutState.Promoted);

        // The stable track moved onto the build while the canary had all the traffic, and the weight came back after.
        var calls = _host.Driver.Calls.ToList();
        Assert.Contains($"deploy stable r{revision} build bbbbbbbb at weight 10000", calls);
        Assert.DoesNotContain(calls, c => c.StartsWith($"deploy stable r{revision}", StringComparison.Ordinal) && !c.EndsWith("at weight 10000", StringComparison.Ordinal));
        Assert.Equal(0, _host.RoutedWeight);
        var audit = await _host.AuditAsync(done.Id);
        Assert.Empty(AuditChain.Problems(audit));
        var draining = audit.Single(e => e.Action == TransitionActions.StableDraining);
        Assert.Equal(10_000, draining.To.Weight);
        Assert.Equal([TransitionActions.StableDraining, TransitionActions.Promoted], audit.Select(e => e.Action).TakeLast(2));
    }

    [Fact]
    public async Task Undo_to_the_earlier_build_runs_it_on_the_canary_first_and_restarts_stable_while_the_canary_serves()
    {
        var revision = await CreateAsync("2.0.0", Build);
        await _host.StartRolloutAsync(revision, [RolloutStep.Weight(10_000)]);
        await _host.DriveAsync(s => s.State == RolloutState.Promoted);
        var before = _host.Driver.Calls.Count;

        var undone = await _host.Undo.UndoAsync(Agent, null, null, Precondition.None, "tester", None);

        Assert.Null(undone.Error);
        var calls = _host.Driver.Calls.Skip(before).ToList();
        var canary = calls.IndexOf("deploy canary r1 at weight 0");
        var stable = calls.IndexOf("deploy stable r1 at weight 10000");
        Assert.True(canary >= 0 && stable > canary, string.Join("; ", calls));
        Assert.Equal(0, _host.RoutedWeight);
        var audit = await _host.AuditAsync();
        Assert.Equal([TransitionActions.StableDraining, TransitionActions.RolledBack], audit.Select(e => e.Action).TakeLast(2));
        Assert.Empty(AuditChain.Problems(audit));
    }

    [Fact]
    public async Task An_undo_with_If_Match_of_the_route_succeeds_although_its_own_drain_moved_the_route()
    {
        var revision = await CreateAsync("2.0.0", Build);
        await _host.StartRolloutAsync(revision, [RolloutStep.Weight(10_000)]);
        await _host.DriveAsync(s => s.State == RolloutState.Promoted);
        var route = _host.Broadcaster.Current.Find(Agent)!;
        Assert.True(Precondition.TryParse(Precondition.ETagFor(route.Revision), out var ifMatch));

        var undone = await _host.Undo.UndoAsync(Agent, null, null, ifMatch, "tester", None);

        Assert.Null(undone.Error);
        Assert.Equal(1, (await _host.StatusAsync()).ToRevision!.Number);
        Assert.Contains(await _host.AuditAsync(), e => e.Action == TransitionActions.StableDraining);
    }

    [Fact]
    public async Task Without_a_build_change_promotion_and_undo_do_not_drain()
    {
        var revision = await CreateAsync("2.0.0", build: null);
        await _host.StartRolloutAsync(revision, [RolloutStep.Weight(1_000), RolloutStep.PauseUntilPromoted()]);
        await _host.DriveAsync(s => s.CurrentStepIndex == 1);
        await _host.Commands.PromoteFullAsync(Agent, null, Precondition.None, "tester", None);
        await _host.DriveAsync(s => s.State == RolloutState.Promoted);
        Assert.Null((await _host.Undo.UndoAsync(Agent, null, null, Precondition.None, "tester", None)).Error);

        Assert.Contains($"deploy stable r{revision} at weight 1000", _host.Driver.Calls);
        Assert.DoesNotContain(await _host.AuditAsync(), e => e.Action == TransitionActions.StableDraining);
    }

    [Fact]
    public async Task A_revision_keeps_its_build_and_a_malformed_or_unrunnable_build_is_refused()
    {
        var number = await CreateAsync("2.0.0", Build);
        var stored = await _host.Revisions.GetAsync(Agent, number, None);
        Assert.Equal(Build, stored.Value!.Build);

        var malformed = await _host.Revisions.CreateAsync(Agent, "2.0.1", null, null, Precondition.None, "tester", None, build: "not-a-hash");
        Assert.Equal("build", Assert.Single(malformed.Error!.Errors!).Key);

        _host.Driver.RunsBuilds = false;
        var unrunnable = await _host.Revisions.CreateAsync(Agent, "2.0.2", null, null, Precondition.None, "tester", None, build: Build);
        Assert.Contains("this driver runs no builds", Assert.Single(unrunnable.Error!.Errors!).Value.Single());
    }

    [Fact]
    public async Task Without_the_AppHost_the_local_driver_refuses_a_build_revision_with_a_problem_naming_the_field()
    {
        await using var factory = new RolloutApiFactory();
        using var api = factory.Operator();

        using var response = await api.PostAsJsonAsync($"/api/agents/{Agent}/revisions", new { version = "2.0.0", build = Build })
            .WaitAsync(Deadline.Request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var message = problem.GetProperty("errors").GetProperty("build")[0].GetString();
        Assert.Contains("without the AppHost's track controller", message);
    }

    private async Task<int> CreateAsync(string version, string? build)
    {
        var outcome = await _host.Revisions.CreateAsync(Agent, version, null, null, Precondition.None, "tester", None, build)
            .WaitAsync(Deadline.Request);
        Assert.Null(outcome.Error);
        Assert.Equal(build, outcome.Value!.Build);
        return outcome.Value.Number;
    }
}
