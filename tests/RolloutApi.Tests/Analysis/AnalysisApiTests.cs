using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Analysis;

/// <summary>The analysis API over HTTP: templates (save, version, If-Match, problem details), runs per rollout, background start.</summary>
public sealed class AnalysisApiTests : IDisposable
{
    private const string AgentPath = $"/api/agents/{RolloutApiFactory.Agent}";
    private readonly RolloutApiFactory _factory = new(new FakeTimeProvider(EngineHost.Epoch));
    private readonly HttpClient _operator;

    public AnalysisApiTests() => _operator = _factory.Operator();

    public void Dispose()
    {
        _operator.Dispose();
        _factory.Dispose();
    }

    [Fact]
    public async Task A_template_is_saved_as_versions_with_etags_and_a_bad_one_gets_problem_details()
    {
        const string template = """
            {"intervalSeconds": 5, "minSamples": 20, "metrics": [
              {"name": "errors", "source": "gateway", "query": "errors", "judge": "sequential", "alpha": 0.01},
              {"name": "failed-items", "source": "prometheus", "judge": "threshold", "comparison": "difference", "tolerance": 0.05,
               "query": "sum(rate(agent_failed_items_total{agent=\"{{agent}}\",track=\"{{track}}\"}[{{window}}]))"}]}
            """;
        using var first = await PutAsync("errors", template, ifMatch: "\"0\"");
        using var stale = await PutAsync("errors", template, ifMatch: "\"0\"");
        using var second = await PutAsync("errors", template, ifMatch: "\"1\"");
        using var viewer = _factory.Viewer();
        using var byViewer = await viewer.PutAsync($"{AgentPath}/analysis-templates/errors", Json.Body(template));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("\"1\"", first.Headers.ETag?.Tag);
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Equal("\"2\"", second.Headers.ETag?.Tag);
        Assert.Equal(HttpStatusCode.Forbidden, byViewer.StatusCode);

        using var got = await viewer.GetAsync($"{AgentPath}/analysis-templates/errors?version=1");
        using var doc = JsonDocument.Parse(await got.Content.ReadAsStringAsync());
        Assert.Equal(1, doc.RootElement.GetProperty("version").GetInt32());
        Assert.Equal("sequential", doc.RootElement.GetProperty("definition").GetProperty("metrics")[0].GetProperty("judge").GetString());

        using var bad = await PutAsync("errors", """{"metrics": [{"name": "x", "source": "gateway", "query": "p999", "judge": "sequential"}]}""");
        using var unknownMember = await PutAsync("errors", """{"metrics": [], "extra": 1}""");
        using var badName = await PutAsync("Bad_Name", template);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        Assert.Contains("metrics[0].query", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, unknownMember.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
    }

    [Fact]
    public async Task A_rollout_with_background_analysis_lists_its_run_and_an_unknown_template_is_refused()
    {
        using var revision = await PostAsync($"{AgentPath}/revisions", """{"version": "2.0.0"}""");
        using var unknown = await PostAsync($"{AgentPath}/rollouts", """{"revision": 2, "analysis": {"template": "nope"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("analysis.template", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var started = await PostAsync($"{AgentPath}/rollouts",
            """{"revision": 2, "steps": [{"setWeight": 0}, {"pause": {}}], "analysis": {"template": "default"}}""");
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        using var rollout = JsonDocument.Parse(await started.Content.ReadAsStringAsync());
        var id = rollout.RootElement.GetProperty("id").GetInt64();

        using var runs = await _operator.GetAsync($"{AgentPath}/rollouts/{id}/analysis-runs");
        using var current = await _operator.GetAsync($"{AgentPath}/rollout/analysis-runs");
        Assert.Equal(HttpStatusCode.OK, runs.StatusCode);
        Assert.Equal(await runs.Content.ReadAsStringAsync(), await current.Content.ReadAsStringAsync());
        using var doc = JsonDocument.Parse(await runs.Content.ReadAsStringAsync());
        Assert.Equal(id, doc.RootElement.GetProperty("rolloutId").GetInt64());
        var run = Assert.Single(doc.RootElement.GetProperty("runs").EnumerateArray());
        Assert.Equal("Background", run.GetProperty("kind").GetString());
        Assert.Equal("default", run.GetProperty("template").GetString());
        Assert.Equal(0, run.GetProperty("templateVersion").GetInt32());
        Assert.Equal("Running", run.GetProperty("state").GetString());
        Assert.Equal(4, run.GetProperty("definition").GetProperty("metrics").GetArrayLength());
        Assert.Equal(0, run.GetProperty("measurements").GetArrayLength()); // weight 0: nothing measured yet

        var runId = run.GetProperty("id").GetInt64();
        using var one = await _operator.GetAsync($"{AgentPath}/rollouts/{id}/analysis-runs/{runId}");
        using var missing = await _operator.GetAsync($"{AgentPath}/rollouts/{id}/analysis-runs/{runId + 100}");
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        using var aborted = await PostAsync($"{AgentPath}/rollout/abort", "{}");
        using var after = JsonDocument.Parse(await (await _operator.GetAsync($"{AgentPath}/rollouts/{id}/analysis-runs/{runId}")).Content.ReadAsStringAsync());
        Assert.Equal("Cancelled", after.RootElement.GetProperty("state").GetString());
    }

    private Task<HttpResponseMessage> PostAsync(string path, string json) => _operator.PostAsync(path, Json.Body(json));

    private Task<HttpResponseMessage> PutAsync(string name, string json, string? ifMatch = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"{AgentPath}/analysis-templates/{name}") { Content = Json.Body(json) };
        if (ifMatch is not null)
        {
            request.Headers.IfMatch.Add(EntityTagHeaderValue.Parse(ifMatch));
        }

        return _operator.SendAsync(request);
    }
}
