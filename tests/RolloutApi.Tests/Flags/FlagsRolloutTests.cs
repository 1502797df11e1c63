using System.Net;
using System.Text.Json;
using AgentAspire.Contracts;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Flags;

/// <summary>
/// Flags follow revisions through the rollout engine's own API: start puts the new revision's flag set on the canary only,
/// promotion moves it to stable, abort and undo revert, each in the transaction of the transition itself.
/// </summary>
public sealed class FlagsRolloutTests : IDisposable
{
    private const string AgentPath = FlagsHost.AgentPath;
    private const string HoldAtTenPercent = """{"revision": 2, "steps": [{"setWeight": 1000}, {"pause": {}}]}""";

    private readonly FlagsHost _host = new();
    private readonly HttpClient _operator;
    private readonly HttpClient _viewer;

    public FlagsRolloutTests()
    {
        _operator = _host.Operator();
        _viewer = _host.Viewer();
    }

    public void Dispose()
    {
        _operator.Dispose();
        _viewer.Dispose();
        _host.Dispose();
    }

    [Fact]
    public async Task Starting_a_rollout_gives_the_canary_the_new_revisions_flags_and_leaves_stable_alone()
    {
        await CreateRevisionsAsync();
        var stableBefore = await _viewer.SnapshotAsync(Tracks.Stable);
        await using var canaryStream = await _host.OpenStreamAsync(Tracks.Canary);
        Assert.Equal(1, (await canaryStream.NextAsync()).Revision);

        using var started = await _operator.SendAsync(HttpMethod.Post, $"{AgentPath}/rollouts", Json.Body(HoldAtTenPercent));
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);

        var canary = await _viewer.SnapshotAsync(Tracks.Canary);
        Assert.Equal((2, "2.0.0"), (canary.Revision, canary.VersionLabel));
        Assert.Equal(["EnrichedOutput", "NewThing"], FlagDocs.Ids(canary));
        Assert.False(FlagDocs.IsOn(canary, "EnrichedOutput"));
        Assert.True(FlagDocs.IsOn(canary, "NewThing"));
        Assert.Equal(canary.Version, (await canaryStream.NextAsync()).Version);
        Assert.Equal(stableBefore, await _viewer.SnapshotAsync(Tracks.Stable), SameSnapshot.Instance);
        Assert.Equal("RolloutStarted", await SnapshotCauseAsync(Tracks.Canary));
    }

    [Fact]
    public async Task Abort_reverts_the_canary_flags_in_the_transaction_that_sets_the_weight_to_zero()
    {
        await CreateRevisionsAsync();
        var stableBefore = await _viewer.SnapshotAsync(Tracks.Stable);
        using var started = await _operator.SendAsync(HttpMethod.Post, $"{AgentPath}/rollouts", Json.Body(HoldAtTenPercent));
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        // Settled on the pause (step 1) at 10%: the reconciler has nothing left to do, so the audit count below is the abort's alone.
        await Deadline.PollAsync(CurrentStepAsync, step => step == 1, Deadline.Request, "the rollout to hold at its pause step");
        await using var canaryStream = await _host.OpenStreamAsync(Tracks.Canary);
        Assert.Equal(2, (await canaryStream.NextAsync()).Revision);
        var audits = await _host.AuditCountAsync();

        using var aborted = await _operator.SendAsync(HttpMethod.Post, $"{AgentPath}/rollout/abort", Json.Body("{}"));

        Assert.Equal(HttpStatusCode.OK, aborted.StatusCode);
        Assert.Equal(audits + 1, await _host.AuditCountAsync());
        // One row, one read: the weight and the canary's flags changed under the same (latest) audit entry.
        var (weight, revision, label, action, latest) = await _host.QueryAsync("""
            SELECT a.weight, s.revision, s.version_label, au.action, s.audit_id = (SELECT max(id) FROM audit)
            FROM agents a
            JOIN flag_snapshots s ON s.agent = a.name AND s.track = 'canary'
            JOIN audit au ON au.id = s.audit_id
            """, r => (r.GetInt32(0), r.GetInt32(1), r.GetString(2), r.GetString(3), r.GetBoolean(4)));
        Assert.Equal((0, 1, RolloutApiFactory.IdleCanaryVersion, "Aborted", true), (weight, revision, label, action, latest));

        var reverted = await canaryStream.NextAsync();
        Assert.Equal(1, reverted.Revision);
        Assert.Equal(["EnrichedOutput", "Legacy"], FlagDocs.Ids(reverted));
        Assert.True(FlagDocs.IsOn(reverted, "EnrichedOutput"));
        Assert.Equal(stableBefore, await _viewer.SnapshotAsync(Tracks.Stable), SameSnapshot.Instance);
    }

    [Fact]
    public async Task Promotion_moves_the_new_flags_to_stable_and_undo_brings_the_old_ones_back()
    {
        await CreateRevisionsAsync();

        using var started = await _operator.SendAsync(HttpMethod.Post, $"{AgentPath}/rollouts",
            Json.Body("""{"revision": 2, "steps": [{"setWeight": 10000}]}"""));
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var promoted = await Deadline.PollAsync(() => _viewer.SnapshotAsync(Tracks.Stable), s => s.Revision == 2, Deadline.Request,
            "the stable track to serve revision 2");

        Assert.Equal("2.0.0", promoted.VersionLabel);
        Assert.Equal(["EnrichedOutput", "NewThing"], FlagDocs.Ids(promoted));
        Assert.Equal("Promoted", await SnapshotCauseAsync(Tracks.Stable));
        var idleCanary = await _viewer.SnapshotAsync(Tracks.Canary);
        Assert.Equal((2, RolloutApiFactory.IdleCanaryVersion), (idleCanary.Revision, idleCanary.VersionLabel));
        Assert.Equal(FlagDocs.Ids(promoted), FlagDocs.Ids(idleCanary));

        using var undone = await _operator.SendAsync(HttpMethod.Post, $"{AgentPath}/undo", Json.Body("{}"));
        Assert.Equal(HttpStatusCode.OK, undone.StatusCode);
        var stable = await _viewer.SnapshotAsync(Tracks.Stable);
        Assert.Equal((1, RolloutApiFactory.StableVersion), (stable.Revision, stable.VersionLabel));
        Assert.Equal(["EnrichedOutput", "Legacy"], FlagDocs.Ids(stable));
        Assert.True(stable.Version > promoted.Version);
        Assert.Equal("RolledBack", await SnapshotCauseAsync(Tracks.Stable));
    }

    [Fact]
    public async Task A_revision_kill_switch_applies_wherever_that_revision_is_served()
    {
        await CreateRevisionsAsync();
        using var killed = await _operator.SendAsync(HttpMethod.Post, $"{AgentPath}/flags/NewThing/kill", Json.Body("""{"revision": 2}"""));
        Assert.Equal(HttpStatusCode.OK, killed.StatusCode);
        Assert.True(FlagDocs.IsOn(await _viewer.SnapshotAsync(Tracks.Canary), "Legacy"));

        using var started = await _operator.SendAsync(HttpMethod.Post, $"{AgentPath}/rollouts", Json.Body(HoldAtTenPercent));
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var stableBefore = await _viewer.SnapshotAsync(Tracks.Stable);
        Assert.False(FlagDocs.IsOn(await _viewer.SnapshotAsync(Tracks.Canary), "NewThing"));

        using var restored = await _operator.SendAsync(HttpMethod.Delete, $"{AgentPath}/flags/NewThing/kill?revision=2");
        Assert.Equal(HttpStatusCode.OK, restored.StatusCode);
        Assert.True(FlagDocs.IsOn(await _viewer.SnapshotAsync(Tracks.Canary), "NewThing"));
        Assert.Equal(stableBefore.Version, (await _viewer.SnapshotAsync(Tracks.Stable)).Version);
    }

    /// <summary>Revision 1 ships EnrichedOutput and Legacy (on); revision 2 (2.0.0) ships EnrichedOutput off and NewThing on.</summary>
    private async Task CreateRevisionsAsync()
    {
        using var one = await _operator.SendAsync(HttpMethod.Put, $"{AgentPath}/revisions/1/flags",
            FlagDocs.Set(FlagDocs.Flag("EnrichedOutput"), FlagDocs.Flag("Legacy")));
        using var created = await _operator.SendAsync(HttpMethod.Post, $"{AgentPath}/revisions", Json.Body("""{"version": "2.0.0"}"""));
        using var two = await _operator.SendAsync(HttpMethod.Put, $"{AgentPath}/revisions/2/flags",
            FlagDocs.Set(FlagDocs.Flag("EnrichedOutput", false), FlagDocs.Flag("NewThing")));
        Assert.Equal(
            [HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created],
            new[] { one.StatusCode, created.StatusCode, two.StatusCode });
    }

    private async Task<int> CurrentStepAsync()
    {
        using var response = await _viewer.GetAsync($"{AgentPath}/rollout").WaitAsync(Deadline.Request);
        using var status = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return status.RootElement.GetProperty("currentStepIndex").GetInt32();
    }

    /// <summary>The action of the audit entry whose transaction last changed the track's snapshot.</summary>
    private Task<string> SnapshotCauseAsync(string track) => _host.QueryAsync(
        $"SELECT au.action FROM flag_snapshots s JOIN audit au ON au.id = s.audit_id WHERE s.track = '{track}'", r => r.GetString(0));

    /// <summary>Snapshots compare by content (their flag sets are JSON elements).</summary>
    private sealed class SameSnapshot : IEqualityComparer<FlagSnapshot>
    {
        public static readonly SameSnapshot Instance = new();

        public bool Equals(FlagSnapshot? x, FlagSnapshot? y) =>
            x is not null && y is not null && x with { FeatureManagement = default } == y with { FeatureManagement = default }
            && JsonElement.DeepEquals(x.FeatureManagement, y.FeatureManagement);

        public int GetHashCode(FlagSnapshot obj) => obj.Version.GetHashCode();
    }
}
