using System.Net;
using System.Net.Http.Json;
using AgentAspire.Contracts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using RolloutApi.Flags;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Flags;

/// <summary>The flag endpoints over HTTP: the snapshot and stream contract agents rely on, validation, immutability, If-Match, kill switches.</summary>
public sealed class FlagsApiTests : IDisposable
{
    private const string AgentPath = FlagsHost.AgentPath;
    private const string Revision1Flags = $"{AgentPath}/revisions/1/flags";
    private const string DefinitionsPath = $"{AgentPath}/flags/definitions";
    private const string KillEnriched = $"{AgentPath}/flags/EnrichedOutput/kill";
    private const string KillAll = $"{AgentPath}/flags/kill";

    private readonly FlagsHost _host = new();
    private readonly HttpClient _operator;
    private readonly HttpClient _viewer;

    public FlagsApiTests()
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
    public async Task Snapshots_follow_the_contract_for_both_tracks_and_honour_if_none_match()
    {
        var stable = await _viewer.SnapshotAsync(Tracks.Stable);
        var canary = await _viewer.SnapshotAsync(Tracks.Canary);

        Assert.Equal((FlagsHost.Agent, Tracks.Stable, 1, RolloutApiFactory.StableVersion), (stable.Agent, stable.Track, stable.Revision, stable.VersionLabel));
        // An idle canary serves the stable revision's flag set under the label the routing table gives it.
        Assert.Equal((Tracks.Canary, 1, RolloutApiFactory.IdleCanaryVersion), (canary.Track, canary.Revision, canary.VersionLabel));
        Assert.True(stable.Version >= 1);
        Assert.Empty(FlagDocs.Ids(stable));

        using var request = new HttpRequestMessage(HttpMethod.Get, FlagApiPaths.SnapshotFor(FlagsHost.Agent, Tracks.Stable));
        request.Headers.TryAddWithoutValidation("If-None-Match", $"\"{stable.Version}\"");
        using var notModified = await _viewer.SendAsync(request).WaitAsync(Deadline.Request);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task Unknown_agents_tracks_and_flags_are_refused_with_problems()
    {
        using var noTrack = await _viewer.GetAsync($"{AgentPath}/flags").WaitAsync(Deadline.Request);
        using var badTrack = await _viewer.GetAsync(FlagApiPaths.SnapshotFor(FlagsHost.Agent, "blue")).WaitAsync(Deadline.Request);
        using var noAgent = await _viewer.GetAsync(FlagApiPaths.SnapshotFor("no-such-agent", Tracks.Stable)).WaitAsync(Deadline.Request);
        using var noAgentStream = await _viewer.GetAsync(FlagApiPaths.StreamFor("no-such-agent", Tracks.Stable)).WaitAsync(Deadline.Request);
        using var noFlag = await _operator.SendAsync(HttpMethod.Post, $"{AgentPath}/flags/NoSuchFlag/kill");
        using var noAgentKill = await _operator.SendAsync(HttpMethod.Post, "/api/agents/no-such-agent/flags/kill");
        using var noRevision = await _operator.SendAsync(HttpMethod.Put, $"{AgentPath}/revisions/99/flags", FlagDocs.Set(FlagDocs.Flag("A")));

        Assert.Equal(HttpStatusCode.BadRequest, noTrack.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badTrack.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noAgent.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noAgentStream.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noFlag.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noAgentKill.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noRevision.StatusCode);
        var problem = await noFlag.ReadAsync<ProblemDetails>();
        Assert.Equal("Flag not found", problem.Title);
        Assert.Equal("application/problem+json", badTrack.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Reading_needs_a_viewer_and_changing_needs_an_operator()
    {
        using var anonymous = _host.Client(apiKey: null);

        using var anonymousRead = await anonymous.GetAsync(FlagApiPaths.SnapshotFor(FlagsHost.Agent, Tracks.Stable)).WaitAsync(Deadline.Request);
        using var anonymousStream = await anonymous.GetAsync(FlagApiPaths.StreamFor(FlagsHost.Agent, Tracks.Stable)).WaitAsync(Deadline.Request);
        using var viewerKill = await _viewer.SendAsync(HttpMethod.Post, KillAll);
        using var viewerSet = await _viewer.SendAsync(HttpMethod.Put, Revision1Flags, FlagDocs.Set(FlagDocs.Flag("A")));
        using var viewerDefinitions = await _viewer.GetAsync(DefinitionsPath).WaitAsync(Deadline.Request);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymousRead.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousStream.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, viewerKill.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, viewerSet.StatusCode);
        Assert.Equal(HttpStatusCode.OK, viewerDefinitions.StatusCode);
    }

    [Fact]
    public async Task A_revision_flag_set_is_written_once_and_served_at_once()
    {
        var before = await _viewer.SnapshotAsync(Tracks.Stable);
        var audits = await _host.AuditCountAsync();

        using var created = await _operator.SendAsync(HttpMethod.Put, Revision1Flags, FlagDocs.Set(FlagDocs.Flag("EnrichedOutput"), FlagDocs.Flag("Beta", false)));
        Assert.True(HttpStatusCode.Created == created.StatusCode, await created.Content.ReadAsStringAsync());
        Assert.Equal(Revision1Flags, created.Headers.Location?.OriginalString);
        var view = await created.ReadAsync<RevisionFlagsView>();
        Assert.Equal("ops", view.CreatedBy);
        var after = await _viewer.SnapshotAsync(Tracks.Stable);
        Assert.True(after.Version > before.Version);
        Assert.Equal($"\"{after.Version}\"", created.Headers.ETag?.Tag);
        Assert.Equal(["EnrichedOutput", "Beta"], FlagDocs.Ids(after));
        Assert.True(FlagDocs.IsOn(after, "EnrichedOutput"));
        Assert.False(FlagDocs.IsOn(after, "Beta"));
        Assert.Equal(audits + 1, await _host.AuditCountAsync());

        // Same set again: nothing changes. A different set: revisions are immutable.
        using var again = await _operator.SendAsync(HttpMethod.Put, Revision1Flags, FlagDocs.Set(FlagDocs.Flag("EnrichedOutput"), FlagDocs.Flag("Beta", false)));
        using var different = await _operator.SendAsync(HttpMethod.Put, Revision1Flags, FlagDocs.Set(FlagDocs.Flag("EnrichedOutput", false)));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, different.StatusCode);
        Assert.Equal(after.Version, (await _viewer.SnapshotAsync(Tracks.Stable)).Version);
        Assert.Equal(audits + 1, await _host.AuditCountAsync());

        using var read = await _viewer.GetAsync(Revision1Flags).WaitAsync(Deadline.Request);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(2, (await read.ReadAsync<RevisionFlagsView>()).FeatureManagement.GetProperty("feature_flags").GetArrayLength());
    }

    public static TheoryData<string, string> InvalidDocuments => new()
    {
        { """{"feature_management": {"feature_flags": {"id": "A"}}}""", "feature_management.feature_flags" },
        { """{"feature_management": {"feature_flags": [{"id": "A", "enabled": "yes"}]}}""", "feature_management.feature_flags[0].enabled" },
        { """{"feature_management": {"feature_flags": [{"enabled": true}]}}""", "feature_management.feature_flags[0].id" },
        { """{"feature_management": {"feature_flags": [{"id": "A", "Enabled": true}]}}""", "feature_management.feature_flags[0].Enabled" },
        { """{"feature_management": {"feature_flags": [{"id": "A"}, {"id": "a"}]}}""", "feature_management.feature_flags[1].id" },
        { """{"feature_management": {"EnrichedOutput": true}}""", "feature_management.EnrichedOutput" },
        { """{"feature_management": []}""", "feature_management" },
        {
            """{"feature_management": {"feature_flags": [{"id": "A", "enabled": true, "conditions": {"client_filters": [{"name": "Contoso.Region"}]}}]}}""",
            "feature_management.feature_flags[0].conditions.client_filters[0].name"
        },
        {
            """{"feature_management": {"feature_flags": [{"id": "A", "enabled": true, "conditions": {"requirement_type": "Most"}}]}}""",
            "feature_management.feature_flags[0]"
        },
        {
            """{"feature_management": {"feature_flags": [{"id": "A", "enabled": true, "conditions": {"client_filters": [{"name": "Microsoft.Percentage", "parameters": {"Value": 150}}]}}]}}""",
            "feature_management.feature_flags[0].conditions.client_filters[0].parameters"
        },
        {
            """{"feature_management": {"feature_flags": [{"id": "A", "enabled": true, "conditions": {"client_filters": [{"name": "Microsoft.Targeting", "parameters": {"Audience": {"Groups": [{"Name": "acme", "RolloutPercentage": 200}]}}}]}}]}}""",
            "feature_management.feature_flags[0].conditions.client_filters[0].parameters"
        },
        {
            """{"feature_management": {"feature_flags": [{"id": "A", "enabled": true, "conditions": {"client_filters": [{"name": "AgentAspire.Track", "parameters": {"Tracks": ["blue"]}}]}}]}}""",
            "feature_management.feature_flags[0].conditions.client_filters[0].parameters"
        },
        {
            """{"feature_management": {"feature_flags": [{"id": "A", "enabled": true, "conditions": {"client_filters": [{"name": "Microsoft.TimeWindow", "parameters": {"Start": "not a date"}}]}}]}}""",
            "feature_management.feature_flags[0].conditions.client_filters[0].parameters"
        },
        {
            """{"feature_management": {"feature_flags": [{"id": "A", "enabled": true, "variants": [{"name": "on"}], "allocation": {"default_when_enabled": "off"}}]}}""",
            "feature_management.feature_flags[0].allocation.default_when_enabled"
        },
    };

    [Theory]
    [MemberData(nameof(InvalidDocuments))]
    public async Task Invalid_flag_documents_are_refused_with_the_path_of_the_problem(string body, string path)
    {
        var audits = await _host.AuditCountAsync();

        using var revision = await _operator.SendAsync(HttpMethod.Put, Revision1Flags, Json.Body(body));
        using var definitions = await _operator.SendAsync(HttpMethod.Put, DefinitionsPath, Json.Body(body));

        Assert.Equal(HttpStatusCode.BadRequest, revision.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, definitions.StatusCode);
        var problem = await revision.ReadAsync<ValidationProblemDetails>();
        Assert.Contains(path, problem.Errors.Keys);
        Assert.Equal(audits, await _host.AuditCountAsync());
    }

    [Fact]
    public async Task A_document_using_every_filter_agents_have_is_accepted()
    {
        using var response = await _operator.SendAsync(HttpMethod.Put, DefinitionsPath, Json.Body("""
            {"feature_management": {"feature_flags": [{
              "id": "EnrichedOutput", "enabled": true, "description": "keywords",
              "conditions": {"requirement_type": "Any", "client_filters": [
                {"name": "AgentAspire.Track", "parameters": {"Tracks": ["canary"], "Versions": ["1.1.0"]}},
                {"name": "Microsoft.Percentage", "parameters": {"Value": 25}},
                {"name": "Microsoft.Targeting", "parameters": {"Audience": {"Users": ["ann"], "Groups": [{"Name": "acme", "RolloutPercentage": 100}], "DefaultRolloutPercentage": 0}}},
                {"name": "Microsoft.TimeWindow", "parameters": {"Start": "Mon, 01 Jun 2026 00:00:00 GMT", "End": "Tue, 30 Jun 2026 00:00:00 GMT"}}]},
              "variants": [{"name": "keywords-5", "configuration_value": {"keywordCount": 5}}, {"name": "plain", "status_override": "Disabled"}],
              "allocation": {"default_when_enabled": "keywords-5", "default_when_disabled": "plain", "percentile": [{"variant": "keywords-5", "from": 0, "to": 100}]},
              "telemetry": {"enabled": true}}]}, "reason": "every filter"}
            """));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var view = await response.ReadAsync<FlagDefinitionsView>();
        Assert.Equal($"\"{view.Version}\"", response.Headers.ETag?.Tag);
        var stable = await _viewer.SnapshotAsync(Tracks.Stable);
        Assert.Equal(["EnrichedOutput"], FlagDocs.Ids(stable));
        Assert.Equal(4, FlagDocs.Flags(stable).Single().GetProperty("conditions").GetProperty("client_filters").GetArrayLength());
    }

    [Fact]
    public async Task Mutations_honour_if_match_with_the_agents_flag_version()
    {
        using var read = await _viewer.GetAsync(DefinitionsPath).WaitAsync(Deadline.Request);
        var etag = read.Headers.ETag!.Tag;

        using var stale = await _operator.SendAsync(HttpMethod.Put, DefinitionsPath, FlagDocs.Set(FlagDocs.Flag("A")), ifMatch: "\"999\"");
        using var garbage = await _operator.SendAsync(HttpMethod.Put, DefinitionsPath, FlagDocs.Set(FlagDocs.Flag("A")), ifMatch: "not-an-etag");
        using var current = await _operator.SendAsync(HttpMethod.Put, DefinitionsPath, FlagDocs.Set(FlagDocs.Flag("A")), ifMatch: etag);
        using var staleKill = await _operator.SendAsync(HttpMethod.Post, $"{AgentPath}/flags/A/kill", ifMatch: etag);
        using var kill = await _operator.SendAsync(HttpMethod.Post, $"{AgentPath}/flags/A/kill", ifMatch: current.Headers.ETag!.Tag);

        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
        Assert.Equal(HttpStatusCode.OK, current.StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, staleKill.StatusCode);
        Assert.Equal(HttpStatusCode.OK, kill.StatusCode);
        Assert.NotEqual(etag, current.Headers.ETag.Tag);
    }

    [Fact]
    public async Task Kill_reaches_stream_subscribers_before_the_call_returns_and_undo_restores()
    {
        using var set = await _operator.SendAsync(HttpMethod.Put, Revision1Flags, FlagDocs.Set(FlagDocs.Flag("EnrichedOutput"), FlagDocs.Flag("Other")));
        Assert.Equal(HttpStatusCode.Created, set.StatusCode);
        await using var stream = await _host.OpenStreamAsync(Tracks.Stable);
        var first = await stream.NextAsync();
        Assert.True(FlagDocs.IsOn(first, "EnrichedOutput"));

        using var killed = await _operator.SendAsync(HttpMethod.Post, KillEnriched, Json.Body("""{"reason": "bad output"}"""));
        // Published before the response was sent: the broadcaster holds the new snapshot the moment the call returns.
        var published = _host.Services.GetRequiredService<FlagSnapshotBroadcaster>().Current(FlagsHost.Agent, Tracks.Stable)!;

        Assert.Equal(HttpStatusCode.OK, killed.StatusCode);
        var result = await killed.ReadAsync<FlagKillResult>();
        Assert.True(result.Killed && result.Changed);
        Assert.Equal(result.Version, published.Version);
        Assert.False(FlagDocs.IsOn(published, "EnrichedOutput"));
        var pushed = await stream.NextAsync();
        Assert.Equal(published.Version, pushed.Version);
        Assert.False(FlagDocs.IsOn(pushed, "EnrichedOutput"));
        Assert.True(FlagDocs.IsOn(pushed, "Other"));
        Assert.All(result.Snapshots, s => Assert.False(FlagDocs.IsOn(s, "EnrichedOutput")));

        using var restored = await _operator.SendAsync(HttpMethod.Delete, KillEnriched);
        Assert.Equal(HttpStatusCode.OK, restored.StatusCode);
        var back = await stream.NextAsync();
        Assert.True(back.Version > pushed.Version);
        Assert.True(FlagDocs.IsOn(back, "EnrichedOutput"));
        Assert.Equal(FlagDocs.Flags(first).Select(f => f.GetRawText()), FlagDocs.Flags(back).Select(f => f.GetRawText()));
    }

    [Fact]
    public async Task Kill_switches_apply_to_their_scope_only()
    {
        using var set = await _operator.SendAsync(HttpMethod.Put, Revision1Flags, FlagDocs.Set(FlagDocs.Flag("EnrichedOutput"), FlagDocs.Flag("Other")));
        var stableBefore = await _viewer.SnapshotAsync(Tracks.Stable);

        using var canaryOnly = await _operator.SendAsync(HttpMethod.Post, KillEnriched, Json.Body("""{"track": "canary"}"""));
        Assert.Equal(HttpStatusCode.OK, canaryOnly.StatusCode);
        Assert.Equal(stableBefore.Version, (await _viewer.SnapshotAsync(Tracks.Stable)).Version);
        Assert.False(FlagDocs.IsOn(await _viewer.SnapshotAsync(Tracks.Canary), "EnrichedOutput"));

        // Revision 1 is served on both tracks (the canary is idle), so its kill switch turns the flag off on both.
        using var revision = await _operator.SendAsync(HttpMethod.Post, $"{AgentPath}/flags/Other/kill?revision=1");
        Assert.Equal(HttpStatusCode.OK, revision.StatusCode);
        Assert.False(FlagDocs.IsOn(await _viewer.SnapshotAsync(Tracks.Stable), "Other"));
        Assert.False(FlagDocs.IsOn(await _viewer.SnapshotAsync(Tracks.Canary), "Other"));
        Assert.True(FlagDocs.IsOn(await _viewer.SnapshotAsync(Tracks.Stable), "EnrichedOutput"));

        // Every flag on the stable track, then that switch off again: the single-flag switches stay.
        var canaryBefore = await _viewer.SnapshotAsync(Tracks.Canary);
        using var all = await _operator.SendAsync(HttpMethod.Post, KillAll, Json.Body("""{"track": "stable"}"""));
        Assert.Equal(HttpStatusCode.OK, all.StatusCode);
        var allOff = await _viewer.SnapshotAsync(Tracks.Stable);
        Assert.Equal(["EnrichedOutput", "Other"], FlagDocs.Ids(allOff));
        Assert.All(FlagDocs.Ids(allOff), id => Assert.False(FlagDocs.IsOn(allOff, id)));
        Assert.Equal(canaryBefore.Version, (await _viewer.SnapshotAsync(Tracks.Canary)).Version);
        using var allBack = await _operator.SendAsync(HttpMethod.Delete, $"{KillAll}?track=stable");
        Assert.Equal(HttpStatusCode.OK, allBack.StatusCode);
        var stable = await _viewer.SnapshotAsync(Tracks.Stable);
        Assert.True(FlagDocs.IsOn(stable, "EnrichedOutput"));
        Assert.False(FlagDocs.IsOn(stable, "Other"));

        using var kills = await _viewer.GetAsync($"{AgentPath}/flags/kills").WaitAsync(Deadline.Request);
        var view = await kills.ReadAsync<FlagKillsView>();
        Assert.Equal(
            [("EnrichedOutput", (string?)"canary", (int?)null), ("Other", null, 1)],
            view.Kills.Select(k => (k.Flag, k.Track, k.Revision)));
    }

    [Fact]
    public async Task Kill_scopes_are_validated_and_a_repeat_changes_nothing()
    {
        using var set = await _operator.SendAsync(HttpMethod.Put, Revision1Flags, FlagDocs.Set(FlagDocs.Flag("EnrichedOutput")));
        using var both = await _operator.SendAsync(HttpMethod.Post, KillEnriched, Json.Body("""{"track": "canary", "revision": 1}"""));
        using var badTrack = await _operator.SendAsync(HttpMethod.Post, KillEnriched, Json.Body("""{"track": "blue"}"""));
        using var twoPlaces = await _operator.SendAsync(HttpMethod.Post, $"{KillEnriched}?track=stable", Json.Body("""{"track": "canary"}"""));
        using var unknownMember = await _operator.SendAsync(HttpMethod.Post, KillEnriched, Json.Body("""{"tracks": "canary"}"""));
        using var noRevision = await _operator.SendAsync(HttpMethod.Post, KillEnriched, Json.Body("""{"revision": 42}"""));
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badTrack.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, twoPlaces.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, unknownMember.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noRevision.StatusCode);

        var audits = await _host.AuditCountAsync();
        using var first = await _operator.SendAsync(HttpMethod.Post, KillEnriched);
        using var second = await _operator.SendAsync(HttpMethod.Post, KillEnriched);
        var firstResult = await first.ReadAsync<FlagKillResult>();
        var secondResult = await second.ReadAsync<FlagKillResult>();

        Assert.True(firstResult.Changed);
        Assert.False(secondResult.Changed);
        Assert.Equal(firstResult.Version, secondResult.Version);
        Assert.Equal(audits + 1, await _host.AuditCountAsync());
    }

    [Fact]
    public async Task Agent_definitions_override_a_revisions_flag_on_both_tracks_and_every_change_is_audited()
    {
        using var set = await _operator.SendAsync(HttpMethod.Put, Revision1Flags, FlagDocs.Set(FlagDocs.Flag("EnrichedOutput"), FlagDocs.Flag("Other")));
        var audits = await _host.AuditCountAsync();

        using var overridden = await _operator.SendAsync(HttpMethod.Put, DefinitionsPath, FlagDocs.Set(FlagDocs.Flag("enrichedoutput", false), FlagDocs.Flag("Extra")));
        using var killed = await _operator.SendAsync(HttpMethod.Post, KillAll);
        using var restored = await _operator.SendAsync(HttpMethod.Delete, KillAll);

        Assert.Equal(HttpStatusCode.OK, overridden.StatusCode);
        foreach (var track in (string[])[Tracks.Stable, Tracks.Canary])
        {
            var snapshot = await _viewer.SnapshotAsync(track);
            Assert.Equal(["enrichedoutput", "Other", "Extra"], FlagDocs.Ids(snapshot));
            Assert.Equal([false, true, true], FlagDocs.Ids(snapshot).Select(id => FlagDocs.IsOn(snapshot, id)));
        }

        var actions = await _host.QueryAsync(
            $"SELECT group_concat(action, ',') FROM (SELECT action FROM audit WHERE id > (SELECT max(id) - 3 FROM audit) ORDER BY id)",
            r => r.GetString(0));
        Assert.Equal(audits + 3, await _host.AuditCountAsync());
        Assert.Equal($"{FlagActions.DefinitionsSet},{FlagActions.FlagKilled},{FlagActions.FlagRestored}", actions);
        var reason = await _host.QueryAsync("SELECT reason || '|' || actor FROM audit ORDER BY id DESC LIMIT 1 OFFSET 1", r => r.GetString(0));
        Assert.Equal("Killed every flag everywhere by ops.|ops", reason);
    }

    [Fact]
    public async Task An_idle_flag_stream_carries_heartbeat_comments()
    {
        using var cts = new CancellationTokenSource(Deadline.Stream);
        using var response = await _viewer.GetAsync(FlagApiPaths.StreamFor(FlagsHost.Agent, Tracks.Canary), HttpCompletionOption.ResponseHeadersRead, cts.Token);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));

        var lines = new List<string>();
        while (await reader.ReadLineAsync(cts.Token) is { } line)
        {
            lines.Add(line);
            if (line.StartsWith(':'))
            {
                break;
            }
        }

        Assert.Equal(FlagApiPaths.EventStreamContentType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"event: {FlagApiPaths.EventName}", lines[0]);
        Assert.Equal(": keep-alive", lines[^1]);
    }

    [Fact]
    public async Task Flag_state_survives_a_restart_and_versions_keep_growing()
    {
        var directory = TestPaths.NewTempDirectory();
        var database = Path.Combine(directory, "restart.db");
        try
        {
            FlagSnapshot killed;
            using (var first = new FlagsHost(databasePath: database))
            using (var ops = first.Operator())
            {
                using var set = await ops.SendAsync(HttpMethod.Put, Revision1Flags, FlagDocs.Set(FlagDocs.Flag("EnrichedOutput")));
                using var kill = await ops.SendAsync(HttpMethod.Post, KillEnriched, Json.Body("""{"track": "stable"}"""));
                Assert.Equal(HttpStatusCode.OK, kill.StatusCode);
                killed = (await kill.ReadAsync<FlagKillResult>()).Snapshots.Single(s => s.Track == Tracks.Stable);
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            using var second = new FlagsHost(databasePath: database);
            using var ops2 = second.Operator();
            using var viewer2 = second.Viewer();

            var after = await viewer2.SnapshotAsync(Tracks.Stable);
            Assert.Equal(killed.Version, after.Version);
            Assert.False(FlagDocs.IsOn(after, "EnrichedOutput"));
            using var restore = await ops2.SendAsync(HttpMethod.Delete, KillEnriched, Json.Body("""{"track": "stable"}"""));
            var restored = await viewer2.SnapshotAsync(Tracks.Stable);
            Assert.True(restored.Version > killed.Version);
            Assert.True(FlagDocs.IsOn(restored, "EnrichedOutput"));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TestPaths.TryDelete(directory);
        }
    }
}
