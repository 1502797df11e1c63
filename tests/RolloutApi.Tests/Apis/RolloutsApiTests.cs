using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AgentAspire.Contracts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Time.Testing;
using RolloutApi.Model;
using RolloutApi.Rollouts;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Apis;

/// <summary>The rollout API over HTTP, on a frozen clock (pauses never elapse by themselves; the reconciler still runs on signals).</summary>
public sealed class RolloutsApiTests : IDisposable
{
    private const string AgentPath = $"/api/agents/{RolloutApiFactory.Agent}";
    private readonly RolloutApiFactory _factory = new(new FakeTimeProvider(EngineHost.Epoch));
    private readonly HttpClient _operator;

    public RolloutsApiTests() => _operator = _factory.Operator();

    public void Dispose()
    {
        _operator.Dispose();
        _factory.Dispose();
    }

    [Fact]
    public async Task Start_returns_201_with_location_and_etag_and_operations_honour_the_rollout_etag()
    {
        using var created = await PostAsync($"{AgentPath}/revisions", """{"version": "2.0.0"}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"{AgentPath}/revisions/2", created.Headers.Location?.OriginalString);
        Assert.Equal("\"2\"", created.Headers.ETag?.Tag);

        using var started = await PostAsync($"{AgentPath}/rollouts",
            """{"revision": 2, "steps": [{"setWeight": 100}, {"pause": {}}, {"setWeight": 5000}], "reason": "ship it"}""");
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var first = await started.ReadAsync<RolloutStatus>();
        Assert.Equal($"{AgentPath}/rollouts/{first.Id}", started.Headers.Location?.OriginalString);
        Assert.Equal("ship it", first.Message);

        var paused = await WaitForStepAsync(1);
        using var stale = await PostAsync($"{AgentPath}/rollout/pause", "{}", ifMatch: $"\"{paused.Version - 1}\"");
        using var invalid = await PostAsync($"{AgentPath}/rollout/pause", "{}", ifMatch: "not-an-etag");
        using var held = await PostAsync($"{AgentPath}/rollout/pause", """{"reason": "checking"}""", ifMatch: $"\"{paused.Version}\"");

        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        var heldStatus = await held.ReadAsync<RolloutStatus>();
        Assert.Equal(RolloutHold.Operator, heldStatus.Hold);
        Assert.Equal($"\"{heldStatus.Version}\"", held.Headers.ETag?.Tag);
        Assert.Equal(paused.Version + 1, heldStatus.Version);
    }

    [Fact]
    public async Task Abort_has_set_the_routed_weight_to_zero_when_it_returns()
    {
        await StartAsync("""[{"setWeight": 2500}, {"pause": {}}]""");
        await WaitForStepAsync(1);
        Assert.Equal(2500, await RoutedWeightAsync());

        using var aborted = await PostAsync($"{AgentPath}/rollout/abort", null);
        var routed = await RoutedWeightAsync();

        Assert.Equal(HttpStatusCode.OK, aborted.StatusCode);
        Assert.Equal(RolloutState.Aborted, (await aborted.ReadAsync<RolloutStatus>()).State);
        Assert.Equal(0, routed);
    }

    [Fact]
    public async Task An_abort_closes_the_canary_to_forced_traffic_until_the_operator_allows_it_or_the_rollout_is_retried()
    {
        using var tooEarly = await PutForcedCanaryAsync(true);
        Assert.Equal(HttpStatusCode.Conflict, tooEarly.StatusCode);
        await StartAsync("""[{"setWeight": 2500}, {"pause": {}}]""");
        await WaitForStepAsync(1);
        Assert.True((await RouteAsync()).ForcedCanary);

        using var aborted = await PostAsync($"{AgentPath}/rollout/abort", null);
        var abort = await aborted.ReadAsync<RolloutStatus>();
        var closed = await RouteAsync();
        Assert.False(closed.ForcedCanary);
        // No gateway is connected in this test: the abort says so (0 of 0) instead of waiting.
        Assert.Equal((0, 0), (abort.Gateways!.Applied, abort.Gateways.Known));

        using var allowed = await PutForcedCanaryAsync(true);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.True((await allowed.ReadAsync<AgentRoute>()).ForcedCanary);
        var opened = await RouteAsync();
        Assert.True(opened.ForcedCanary);
        Assert.True(opened.Revision > closed.Revision, "allowing forced traffic must publish a new routing revision");
        Assert.Equal("0", allowed.Headers.GetValues("Gateways-Known").Single());

        using var closedAgain = await PutForcedCanaryAsync(false);
        Assert.Equal(HttpStatusCode.OK, closedAgain.StatusCode);
        Assert.False((await RouteAsync()).ForcedCanary);

        using var audit = await _operator.GetAsync($"{AgentPath}/audit").WaitAsync(Deadline.Request);
        var actions = (await audit.ReadAsync<JsonElement>()).EnumerateArray().Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Contains("ForcedCanaryAllowed", actions);
        Assert.Contains("ForcedCanaryClosed", actions);

        using var retried = await PostAsync($"{AgentPath}/rollout/retry", null);
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.True((await RouteAsync()).ForcedCanary);
    }

    [Fact]
    public async Task Dashboard_style_bodies_and_empty_bodies_are_accepted_and_undo_reverts_a_promotion()
    {
        await StartAsync("""[{"setWeight": 100}, {"pause": {}}]""");
        await WaitForStepAsync(1);

        using var promote = await PostAsync($"{AgentPath}/rollout/promote", "{}");
        var promoted = await Deadline.PollAsync(CurrentAsync, s => s.State == RolloutState.Promoted, Deadline.Request, "promotion");
        using var undo = await PostAsync($"{AgentPath}/undo", null);
        var table = await (await _operator.GetAsync(RolloutApiPaths.Routing).WaitAsync(Deadline.Request)).ReadAsync<RoutingTable>();

        Assert.Equal(HttpStatusCode.OK, promote.StatusCode);
        Assert.Equal(2, promoted.ToRevision!.Number);
        Assert.Equal(HttpStatusCode.OK, undo.StatusCode);
        Assert.Equal(RolloutState.RolledBack, (await undo.ReadAsync<RolloutStatus>()).State);
        Assert.Equal(RolloutApiFactory.StableVersion, table.Find(RolloutApiFactory.Agent)!.Stable.Version);
    }

    [Fact]
    public async Task Without_steps_the_default_staged_rollout_is_used_and_status_says_what_comes_next()
    {
        await PostAsync($"{AgentPath}/revisions", """{"version": "2.0.0"}""");
        using var started = await PostAsync($"{AgentPath}/rollouts", """{"revision": 2}""");
        var status = await WaitForStepAsync(1);

        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        Assert.Equal(RolloutSteps.Default.Count, status.StepCount);
        Assert.Equal(100, status.Weight);
        Assert.Equal(RolloutState.Paused, status.State);
        Assert.Equal(EngineHost.Epoch + TimeSpan.FromMinutes(5), status.PauseEndsAt);
        Assert.Contains("step 2 (analysis) when the pause ends", status.NextAction, StringComparison.OrdinalIgnoreCase);
        Assert.NotEmpty(status.LastTransitions);
    }

    [Fact]
    public async Task A_second_rollout_is_409_and_bad_steps_are_400_with_field_errors()
    {
        await StartAsync("""[{"pause": {}}]""");
        await PostAsync($"{AgentPath}/revisions", """{"version": "3.0.0"}""");

        using var second = await PostAsync($"{AgentPath}/rollouts", """{"revision": 3}""");
        using var badSteps = await PostAsync($"{AgentPath}/rollouts",
            """{"revision": 3, "steps": [{"setWeight": 10001}, {"pause": {"durationSeconds": 0}}, {}]}""");

        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badSteps.StatusCode);
        var problem = await badSteps.ReadAsync<ValidationProblemDetails>();
        Assert.Equal(["steps[0].setWeight", "steps[1].pause.durationSeconds", "steps[2]"], problem.Errors.Keys.Order());
    }

    [Fact]
    public async Task Audit_lists_every_transition_newest_first_with_actor_and_from_to()
    {
        await StartAsync("""[{"setWeight": 100}, {"pause": {}}]""");
        await WaitForStepAsync(1);
        await PostAsync($"{AgentPath}/rollout/abort", """{"reason": "enough"}""");

        var audit = await (await _operator.GetAsync($"{AgentPath}/audit?limit=10").WaitAsync(Deadline.Request)).ReadAsync<List<AuditEntryView>>();

        Assert.Equal("Aborted", audit[0].Action);
        Assert.Equal("ops", audit[0].Actor);
        Assert.Equal("enough", audit[0].Reason);
        Assert.Equal(new("Paused", 1, 100), audit[0].From);
        Assert.Equal(new("Aborted", 1, 0), audit[0].To);
        Assert.Empty(AuditChain.Problems(audit));
        Assert.True(audit.Zip(audit.Skip(1)).All(pair => pair.First.Id > pair.Second.Id));
    }

    [Fact]
    public async Task OpenApi_document_and_scalar_ui_are_served_without_a_credential()
    {
        using var anonymous = _factory.CreateClient(apiKey: null);

        using var document = await anonymous.GetAsync("/openapi/v1.json").WaitAsync(Deadline.Request);
        using var ui = await anonymous.GetAsync("/scalar/v1").WaitAsync(Deadline.Request);

        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
        using var json = JsonDocument.Parse(await document.Content.ReadAsStringAsync());
        var paths = json.RootElement.GetProperty("paths");
        foreach (var path in new[] { "/api/routing", "/api/agents/{agent}/weight", "/api/agents/{agent}/rollouts", "/api/agents/{agent}/rollout/abort", "/api/agents/{agent}/undo", "/api/agents/{agent}/audit" })
        {
            Assert.True(paths.TryGetProperty(path, out _), path);
        }

        Assert.True(json.RootElement.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("ApiKey", out _));
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
    }

    private async Task StartAsync(string steps)
    {
        using var revision = await PostAsync($"{AgentPath}/revisions", """{"version": "2.0.0"}""");
        using var started = await PostAsync($"{AgentPath}/rollouts", $$"""{"revision": 2, "steps": {{steps}}}""");
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
    }

    private Task<RolloutStatus> WaitForStepAsync(int step) =>
        Deadline.PollAsync(CurrentAsync, s => s.CurrentStepIndex == step, Deadline.Request, $"step {step}");

    private async Task<RolloutStatus> CurrentAsync()
    {
        using var response = await _operator.GetAsync($"{AgentPath}/rollout").WaitAsync(Deadline.Request);
        return await response.ReadAsync<RolloutStatus>();
    }

    private async Task<int> RoutedWeightAsync()
    {
        using var response = await _operator.GetAsync(RolloutApiPaths.Routing).WaitAsync(Deadline.Request);
        return (await response.ReadAsync<RoutingTable>()).Find(RolloutApiFactory.Agent)!.Weight;
    }

    private async Task<AgentRoute> RouteAsync()
    {
        using var response = await _operator.GetAsync(RolloutApiPaths.Routing).WaitAsync(Deadline.Request);
        return (await response.ReadAsync<RoutingTable>()).Find(RolloutApiFactory.Agent)!;
    }

    private Task<HttpResponseMessage> PutForcedCanaryAsync(bool allowed) =>
        _operator.PutAsync($"{AgentPath}/forced-canary", Json.Body($$"""{"allowed": {{(allowed ? "true" : "false")}}}""")).WaitAsync(Deadline.Request);

    private async Task<HttpResponseMessage> PostAsync(string path, string? body, string? ifMatch = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (body is not null)
        {
            request.Content = Json.Body(body);
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return await _operator.SendAsync(request).WaitAsync(Deadline.Request);
    }
}
