using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentAspire.Contracts;
using AppHost.Builds;
using AppHost.Local;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace AppHost.Tests.WholeApp;

/// <summary>
/// "Canary your working copy": a revision that names a stored build runs that build. The build here really differs — it is
/// published with another <c>InformationalVersion</c>, which the agent writes into every answer (<c>servedBy.code</c>) — and
/// every check reads what the agent processes answered, never the gateway's stamp or RolloutApi's belief.
/// </summary>
[Collection(WholeAppCollection.Name)]
public sealed class BuildRolloutTests(AppFixture fixture)
{
    private static readonly string AgentPath = $"/api/agents/{ResourceNames.DefaultAgent}";
    private static readonly TimeSpan PublishDeadline = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan TrackDeadline = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task A_changed_build_is_served_by_the_canary_only_then_by_stable_after_promotion_and_the_old_code_returns_after_undo()
    {
        using var api = fixture.CreateOperatorClient();
        using var gateway = fixture.CreateGatewayClient();
        await fixture.AllowForcedCanaryAsync();
        var marker = $"9.9.9-build-test.{Guid.NewGuid():N}"[..32];
        var build = await PublishWorkingCopyAsync(marker);

        var oldStable = await ServedByTests.IdentityViaGatewayAsync(gateway, Tracks.Stable);
        var oldCanary = await ServedByTests.IdentityViaGatewayAsync(gateway, Tracks.Canary);
        var oldCode = await CodeAsync(gateway, Tracks.Stable);
        Assert.NotEqual(marker, oldCode);
        Assert.NotEqual(build, oldStable.Build);

        var revision = await CreateBuildRevisionAsync(api, "9.9.9-build", build);
        var started = await RolloutTests.PostAsync(api, $"{AgentPath}/rollouts", new
        {
            revision,
            steps = new object[] { new { setWeight = 5_000 }, new { pause = new { } } },
            reason = "build rollout test",
        });
        Assert.Equal(HttpStatusCode.Created, started.Status);
        try
        {
            // Starting the rollout put the canary process on the build: its own identity says so, from a new process.
            await RolloutTests.WaitForRolloutAsync(api, r => r.GetProperty("currentStepIndex").GetInt32() == 1, "the pause at 50 %");
            var canary = await WaitForTrackBuildAsync(ResourceNames.AgentCanary, build);
            Assert.NotEqual(oldCanary.Instance, canary.Instance);
            await RoutingTests.WaitForGatewayWeightAsync(gateway, 5_000);

            // At 50 %, unkeyed traffic reaches both processes; only the canary answers with the new code.
            var split = await SendAsync(gateway, 60);
            Assert.All(split, r => Assert.Equal(HttpStatusCode.OK, r.Status));
            Assert.All(split.Where(r => r.Track == Tracks.Canary), r => Assert.Equal((marker, build), (r.Code, r.Build)));
            Assert.All(split.Where(r => r.Track == Tracks.Stable), r => Assert.Equal((oldCode, oldStable.Build), (r.Code, r.Build)));
            Assert.InRange(split.Count(r => r.Track == Tracks.Canary), 29, 31);
            Assert.Equal(oldStable.Instance, (await ServedByTests.IdentityViaGatewayAsync(gateway, Tracks.Stable)).Instance);

            // Promotion moves stable onto the build while traffic flows, and no request fails on the way.
            var promotion = await UnderLoadAsync(gateway, async () =>
            {
                await RolloutTests.PostAsync(api, $"{AgentPath}/rollout/promote-full", new { reason = "build rollout test" });
                await RolloutTests.WaitForRolloutAsync(api, r => r.GetProperty("state").GetString() == "Promoted", "promotion");
            });
            Assert.All(promotion, r => Assert.Equal(HttpStatusCode.OK, r.Status));
            var newStable = await WaitForTrackBuildAsync(ResourceNames.AgentStable, build);
            Assert.NotEqual(oldStable.Instance, newStable.Instance);
            await RoutingTests.WaitForGatewayWeightAsync(gateway, 0);
            var promoted = await SendAsync(gateway, 20);
            Assert.All(promoted, r => Assert.Equal((HttpStatusCode.OK, Tracks.Stable, marker, build), (r.Status, r.Track!, r.Code, r.Build)));

            // Undo restarts stable on the earlier build: the old code answers again, and again no request fails.
            var undo = await UnderLoadAsync(gateway, async () =>
                await RolloutTests.PostAsync(api, $"{AgentPath}/undo", new { reason = "build rollout test: undo" }));
            Assert.All(undo, r => Assert.Equal(HttpStatusCode.OK, r.Status));
            var restored = await WaitForTrackBuildAsync(ResourceNames.AgentStable, oldStable.Build);
            Assert.NotEqual(newStable.Instance, restored.Instance);
            var after = await SendAsync(gateway, 20);
            Assert.All(after, r => Assert.Equal((HttpStatusCode.OK, Tracks.Stable, oldCode, oldStable.Build), (r.Status, r.Track!, r.Code, r.Build)));
        }
        finally
        {
            // Leave no active rollout behind for the other tests, whatever failed above.
            using var cleanup = await api.PostAsJsonAsync($"{AgentPath}/rollout/abort", new { reason = "test cleanup" });
        }
    }

    [Fact]
    public async Task A_revision_naming_a_build_that_is_not_stored_is_refused_before_anything_runs_it()
    {
        using var api = fixture.CreateOperatorClient();
        using var response = await api.PostAsJsonAsync($"{AgentPath}/revisions",
            new { version = "9.9.8-missing", build = new string('a', 64) }).WaitAsync(AppFixture.RequestDeadline);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("build", problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }

    /// <summary>Publishes the working copy with <c>InformationalVersion=<paramref name="marker"/></c> into the app's build store.</summary>
    private async Task<string> PublishWorkingCopyAsync(string marker)
    {
        using var deadline = new CancellationTokenSource(PublishDeadline);
        var local = fixture.App.Services.GetRequiredService<LocalTracks>();
        var project = Path.Combine(local.Launches.WorkingCopy.ProjectDirectory, "AgentWorker.csproj");
        var publisher = new WorkingCopyPublisher(local.Launches.Store, project, NullLogger.Instance);
        var build = await publisher.PublishAsync(deadline.Token, $"InformationalVersion={marker}", "IncludeSourceRevisionInInformationalVersion=false");
        Assert.True(BuildStore.IsValidHash(build));
        Assert.Equal(build, BuildStore.ContentHash(Path.Combine(fixture.BuildStorePath, build)));
        return build;
    }

    private static async Task<int> CreateBuildRevisionAsync(HttpClient api, string version, string build)
    {
        var created = await RolloutTests.PostAsync(api, $"{AgentPath}/revisions", new { version, build, reason = "build rollout test" });
        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal(build, created.Body.GetProperty("build").GetString());
        return created.Body.GetProperty("number").GetInt32();
    }

    /// <summary>Polls the track's own <c>/identity</c> until it reports <paramref name="build"/>.</summary>
    private async Task<AgentIdentity> WaitForTrackBuildAsync(string resource, string build)
    {
        using var client = fixture.App.CreateHttpClient(resource, "http");
        var clock = Stopwatch.StartNew();
        AgentIdentity? current = null;
        while (true)
        {
            try
            {
                current = await client.GetFromJsonAsync<AgentIdentity>(AgentPaths.Identity).WaitAsync(AppFixture.RequestDeadline);
                if (current?.Build == build)
                {
                    return current;
                }
            }
            catch (HttpRequestException)
            {
                // Restarting: no process behind the proxy for a moment.
            }

            Assert.True(clock.Elapsed < TrackDeadline, $"{resource} still runs build {current?.Build} after {TrackDeadline}, not {build}.");
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    private static async Task<string> CodeAsync(HttpClient gateway, string track)
    {
        using var response = await WorkItems.SendAsync(gateway, track);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await Read(response)).Code;
    }

    private static async Task<List<Served>> SendAsync(HttpClient gateway, int count)
    {
        var served = new List<Served>(count);
        for (var i = 0; i < count; i++)
        {
            using var response = await WorkItems.SendAsync(gateway, forcedTrack: null);
            served.Add(await Read(response));
        }

        return served;
    }

    /// <summary>Runs <paramref name="action"/> while two clients keep sending unkeyed work items; returns every answer.</summary>
    private static async Task<List<Served>> UnderLoadAsync(HttpClient gateway, Func<Task> action)
    {
        var served = new ConcurrentQueue<Served>();
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await WorkItems.SendAsync(gateway, forcedTrack: null);
                served.Enqueue(await Read(response));
            }
        })).ToArray();

        try
        {
            await action();
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(load).WaitAsync(AppFixture.RequestDeadline);
        }

        Assert.NotEmpty(served);
        return [.. served];
    }

    private static async Task<Served> Read(HttpResponseMessage response)
    {
        var track = WholeAppTests.Header(response, AgentHeaders.Track);
        var build = WholeAppTests.Header(response, AgentHeaders.Build);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return new Served(response.StatusCode, track, "", build);
        }

        // Who served and with which code, in the agent's own words: its identity header and its answer's body.
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var servedBy = body.GetProperty("servedBy");
        Assert.Equal(track, servedBy.GetProperty("track").GetString());
        Assert.Equal(WholeAppTests.Header(response, GatewayChoiceHeaders.Track), track);
        return new Served(response.StatusCode, track, servedBy.GetProperty("code").GetString()!, build);
    }

    private sealed record Served(HttpStatusCode Status, string? Track, string Code, string? Build);
}
