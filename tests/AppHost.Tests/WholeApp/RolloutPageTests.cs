using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentAspire.Contracts;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AppHost.Tests.WholeApp;

/// <summary>
/// The rollout page in a real browser against the running app: a rollout driven with the page's buttons alone, what the
/// page shows after each one, and the effect where it lands (RolloutApi's state, the gateway's applied weight, who the
/// agents say served). Plus the 412 when someone else acted first, and a viewer key that can press nothing.
/// </summary>
[Collection(WholeAppCollection.Name)]
public sealed partial class RolloutPageTests(AppFixture fixture)
{
    private static readonly string AgentPath = $"/api/agents/{ResourceNames.DefaultAgent}";

    // 10% with a hold, an analysis, 50% with a hold: every button has something to do.
    private const string Steps = """[{"setWeight":1000},{"pause":{}},{"analysis":{}},{"setWeight":5000},{"pause":{}}]""";

    [Fact]
    public async Task An_operator_drives_a_rollout_with_the_buttons_and_the_page_shows_each_step()
    {
        using var api = fixture.CreateOperatorClient();
        using var gateway = fixture.CreateGatewayClient();
        var revision = await EnsureRevisionAsync(api, "1.1.0");
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.OpenPageAsync(PageUrl(), fixture.OperatorKey);
        try
        {
            await Expect(page.GetByTestId("role")).ToHaveTextAsync("operator");
            await Expect(page.GetByTestId("stream-state")).ToHaveTextAsync("live");

            // Start: the steps typed in, "Start rollout" on the revision's row, confirmed.
            await page.Locator("#new-steps").FillAsync(Steps);
            await page.Locator($"#revisions tr[data-revision='{revision}'] [data-testid=start-revision]").ClickAsync();
            await ConfirmAsync(page);
            await Expect(page.GetByTestId("step")).ToHaveTextAsync("1/5: pause until promoted");
            await Expect(page.GetByTestId("weight")).ToHaveTextAsync("10%");
            await Expect(page.Locator("#timeline li.current")).ToHaveTextAsync(new Regex("^pause until promoted"));
            await RoutingTests.WaitForGatewayWeightAsync(gateway, 1_000);
            await ExpectAuditRowAsync(page, "RolloutStarted");

            // Traffic: what the agents say they served follows the weight, and both tracks get points on the charts.
            var canary = await RoutingTests.CountCanaryAsync(gateway, 200);
            Assert.InRange(canary, 19, 21);
            await ExpectPositiveAsync(page, "canary-rps");
            await ExpectPositiveAsync(page, "stable-rps");
            await ExpectPositiveAsync(page, "canary-p50");
            await ExpectPositiveAsync(page, "stable-p99");

            // Promote: the pause ends, the analysis runs, the rollout holds at 50%.
            await ClickAsync(page, "btn-promote");
            await Expect(page.GetByTestId("step")).ToHaveTextAsync("4/5: pause until promoted");
            await Expect(page.GetByTestId("weight")).ToHaveTextAsync("50%");
            await RoutingTests.WaitForGatewayWeightAsync(gateway, 5_000);
            var status = await GetRolloutAsync(api);
            var verdict = status.GetProperty("lastAnalysis").GetProperty("verdict").GetString()!;
            await Expect(page.GetByTestId("verdict").Filter(new LocatorFilterOptions { HasTextString = verdict }).First).ToBeVisibleAsync();
            await ExpectAuditRowAsync(page, "StepPromoted");

            // Pause and resume: the hold shows, and goes.
            await ClickAsync(page, "btn-pause");
            await Expect(page.Locator("#r-hold")).ToHaveTextAsync("held: Operator");
            Assert.Equal("Operator", (await GetRolloutAsync(api)).GetProperty("hold").GetString());
            await ExpectAuditRowAsync(page, "Paused");
            await ClickAsync(page, "btn-resume");
            await Expect(page.Locator("#r-hold")).ToBeHiddenAsync();
            Assert.Equal(JsonValueKind.Null, (await GetRolloutAsync(api)).GetProperty("hold").ValueKind);

            // Abort: weight 0 on the page, at the gateway, and no request reaches the canary.
            await ClickAsync(page, "btn-abort");
            await Expect(page.GetByTestId("state")).ToHaveTextAsync("Aborted");
            await Expect(page.GetByTestId("weight")).ToHaveTextAsync("0%");
            await RoutingTests.WaitForGatewayWeightAsync(gateway, 0);
            Assert.Equal(0, await RoutingTests.CountCanaryAsync(gateway, 50));
            await ExpectAuditRowAsync(page, "Aborted");

            // Retry, then promote full: the canary revision becomes stable.
            await ClickAsync(page, "btn-retry");
            await Expect(page.GetByTestId("step")).ToHaveTextAsync("1/5: pause until promoted");
            await ClickAsync(page, "btn-promote-full");
            await Expect(page.GetByTestId("state")).ToHaveTextAsync("Promoted");
            Assert.Equal("1.1.0", await StableVersionAsync(api));
            await ExpectAuditRowAsync(page, "Promoted");

            // Undo: the previous stable revision is back.
            await ClickAsync(page, "btn-undo");
            await Expect(page.GetByTestId("state")).ToHaveTextAsync("RolledBack");
            Assert.Equal("1.0.0", await StableVersionAsync(api));
            await RoutingTests.WaitForGatewayWeightAsync(gateway, 0);

            // Kill switch for every flag, and back (once the page shows the flag version the undo left).
            var flagVersion = (await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/flags/kills")).GetProperty("version").GetInt64();
            await Expect(page.Locator("#flags")).ToHaveAttributeAsync("data-version", flagVersion.ToString(CultureInfo.InvariantCulture));
            var allFlags = page.Locator("#flags tr[data-flag='*']");
            await allFlags.GetByTestId("flag-kill").ClickAsync();
            await ConfirmAsync(page);
            await Expect(allFlags).ToHaveAttributeAsync("data-killed", "true");
            Assert.Contains((await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/flags/kills")).GetProperty("kills").EnumerateArray(),
                k => k.GetProperty("flag").GetString() == "*");
            await allFlags.GetByTestId("flag-restore").ClickAsync();
            await ConfirmAsync(page);
            await Expect(allFlags).ToHaveAttributeAsync("data-killed", "false");
            Assert.Empty((await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/flags/kills")).GetProperty("kills").EnumerateArray());
            await Expect(page.GetByTestId("problem")).ToBeHiddenAsync();
        }
        finally
        {
            await LeaveAsFoundAsync(api);
        }
    }

    [Fact]
    public async Task A_button_pressed_after_someone_else_acted_shows_the_412_and_changes_nothing()
    {
        using var api = fixture.CreateOperatorClient();
        var revision = await EnsureRevisionAsync(api, "1.1.0");
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.OpenPageAsync(PageUrl(), fixture.OperatorKey);
        try
        {
            using var started = await api.PostAsJsonAsync($"{AgentPath}/rollouts",
                new { revision, steps = JsonDocument.Parse(Steps).RootElement, reason = "page 412 test" });
            Assert.Equal(HttpStatusCode.Created, started.StatusCode);
            await Expect(page.GetByTestId("step")).ToHaveTextAsync("1/5: pause until promoted");

            // The page took the rollout's ETag when Promote was pressed; another operator pauses while it asks to confirm.
            await page.GetByTestId("btn-promote").ClickAsync();
            await Expect(page.GetByTestId("confirm")).ToBeVisibleAsync();
            using var paused = await api.PostAsJsonAsync($"{AgentPath}/rollout/pause", new { reason = "the other operator" });
            Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
            await page.GetByTestId("confirm-ok").ClickAsync();

            await Expect(page.GetByTestId("problem")).ToBeVisibleAsync();
            await Expect(page.GetByTestId("problem")).ToHaveAttributeAsync("data-status", "412");
            await Expect(page.Locator("#problem-detail")).Not.ToBeEmptyAsync();
            var after = await GetRolloutAsync(api);
            Assert.Equal(1, after.GetProperty("currentStepIndex").GetInt32());
            Assert.Equal("Operator", after.GetProperty("hold").GetString());
        }
        finally
        {
            await LeaveAsFoundAsync(api);
        }
    }

    [Fact]
    public async Task A_viewer_sees_the_rollout_but_no_enabled_button_and_the_key_stays_out_of_urls_and_local_storage()
    {
        using var api = fixture.CreateOperatorClient();
        var revision = await EnsureRevisionAsync(api, "1.1.0");
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.OpenPageAsync(PageUrl(), fixture.ViewerKey);
        try
        {
            using var started = await api.PostAsJsonAsync($"{AgentPath}/rollouts",
                new { revision, steps = JsonDocument.Parse(Steps).RootElement, reason = "page viewer test" });
            Assert.Equal(HttpStatusCode.Created, started.StatusCode);

            await Expect(page.GetByTestId("role")).ToHaveTextAsync("viewer");
            await Expect(page.GetByTestId("step")).ToHaveTextAsync("1/5: pause until promoted");
            await Expect(page.GetByTestId("audit-row").First).ToBeVisibleAsync();
            await Expect(page.Locator("#revisions tbody tr").First).ToBeVisibleAsync();
            Assert.True(await page.Locator("button.op").CountAsync() >= 8);
            Assert.Equal(0, await page.Locator("button.op:enabled").CountAsync());

            Assert.DoesNotContain(fixture.ViewerKey, page.Url, StringComparison.Ordinal);
            Assert.Equal(0, await page.EvaluateAsync<int>("() => localStorage.length"));
            Assert.Equal(0, await page.EvaluateAsync<int>("() => document.cookie.length"));
        }
        finally
        {
            await LeaveAsFoundAsync(api);
        }
    }

    private Uri PageUrl() => new(fixture.App.GetEndpoint(ResourceNames.RolloutApi, "http"), "/rollouts");

    private static async Task ClickAsync(IPage page, string button)
    {
        await Expect(page.GetByTestId(button)).ToBeEnabledAsync();
        await page.GetByTestId(button).ClickAsync();
        await ConfirmAsync(page);
    }

    private static async Task ConfirmAsync(IPage page)
    {
        await Expect(page.GetByTestId("confirm")).ToBeVisibleAsync();
        await page.GetByTestId("confirm-ok").ClickAsync();
        await Expect(page.GetByTestId("confirm")).ToBeHiddenAsync();
    }

    private static Task ExpectAuditRowAsync(IPage page, string action) =>
        Expect(page.Locator($"#audit tr[data-action='{action}']").First).ToBeVisibleAsync();

    /// <summary>The newest point of a chart series is above zero (traffic reached the page through the live stream).</summary>
    private static Task ExpectPositiveAsync(IPage page, string series) =>
        RoutingTests.WaitUntilAsync(async () =>
        {
            var last = await page.Locator($"path[data-series='{series}']").GetAttributeAsync("data-last");
            return double.TryParse(last, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0;
        }, $"a positive point on the {series} chart");

    private static async Task<JsonElement> GetRolloutAsync(HttpClient api) =>
        await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/rollout").WaitAsync(AppFixture.RequestDeadline);

    private static async Task<string> StableVersionAsync(HttpClient api) =>
        (await api.GetFromJsonAsync<RoutingTable>(RolloutApiPaths.Routing).WaitAsync(AppFixture.RequestDeadline))!
            .Find(ResourceNames.DefaultAgent)!.Stable.Version;

    /// <summary>The revision with <paramref name="version"/>: revisions are immutable, so an earlier test's is reused.</summary>
    internal static async Task<int> EnsureRevisionAsync(HttpClient api, string version)
    {
        var revisions = await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/revisions").WaitAsync(AppFixture.RequestDeadline);
        foreach (var existing in revisions.EnumerateArray().Where(r => r.GetProperty("version").GetString() == version))
        {
            return existing.GetProperty("number").GetInt32();
        }

        using var created = await api.PostAsJsonAsync($"{AgentPath}/revisions", new { version, imageTag = version, reason = "page test" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("number").GetInt32();
    }

    /// <summary>
    /// No active rollout, no kill switch, forced canary traffic allowed, the seeded stable version, weight 0: as the other
    /// tests expect the app.
    /// </summary>
    internal static async Task LeaveAsFoundAsync(HttpClient api)
    {
        if ((await GetRolloutAsync(api)).GetProperty("state").GetString() is "Progressing" or "Paused" or "Analyzing")
        {
            using var aborted = await api.PostAsJsonAsync($"{AgentPath}/rollout/abort", new { reason = "test cleanup" });
        }

        using (await api.DeleteAsync($"{AgentPath}/flags/kill"))
        {
        }

        // The canary of an aborted rollout refuses forced traffic until an operator allows it; other tests force tracks.
        if ((await GetRolloutAsync(api)).GetProperty("state").GetString() == "Aborted")
        {
            using var allowed = await api.PutAsJsonAsync($"/api/agents/{ResourceNames.DefaultAgent}/forced-canary", new { allowed = true });
            Assert.True(allowed.IsSuccessStatusCode, $"PUT forced-canary: {(int)allowed.StatusCode} {await allowed.Content.ReadAsStringAsync()}");
        }

        if (await StableVersionAsync(api) != "1.0.0")
        {
            var revisions = await api.GetFromJsonAsync<JsonElement>($"{AgentPath}/revisions");
            var seeded = revisions.EnumerateArray().First(r => r.GetProperty("version").GetString() == "1.0.0").GetProperty("number").GetInt32();
            using var undone = await api.PostAsJsonAsync($"{AgentPath}/undo", new { revision = seeded, reason = "test cleanup" });
        }

        var weight = (await api.GetFromJsonAsync<RoutingTable>(RolloutApiPaths.Routing))!.Find(ResourceNames.DefaultAgent)!.Weight;
        Assert.Equal(0, weight);
    }
}
