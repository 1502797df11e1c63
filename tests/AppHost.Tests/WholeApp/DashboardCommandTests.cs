using System.Net;
using System.Net.Http.Json;
using AgentAspire.Contracts;
using AppHost.Dashboard;

namespace AppHost.Tests.WholeApp;

/// <summary>
/// The dashboard's Undo and Kill-switch buttons (resource commands on the agent resources), run as the dashboard runs
/// them, with their outcome read from the agents themselves: the version the stable process says it runs, the
/// behaviour each track's process answers with.
/// </summary>
[Collection(WholeAppCollection.Name)]
public sealed class DashboardCommandTests(AppFixture fixture)
{
    private static readonly string AgentPath = $"/api/agents/{ResourceNames.DefaultAgent}";

    [Fact]
    public async Task The_undo_button_puts_the_previous_revision_back_on_the_stable_process()
    {
        using var api = fixture.CreateOperatorClient();
        using var gateway = fixture.CreateGatewayClient();
        using var deadline = new CancellationTokenSource(AppFixture.StartDeadline);
        var revision = await RolloutTests.CreateRevisionAsync(api, "1.1.0");
        var started = await RolloutTests.PostAsync(api, $"{AgentPath}/rollouts",
            new { revision, steps = new object[] { new { pause = new { } } }, reason = "dashboard undo test" });
        Assert.Equal(HttpStatusCode.Created, started.Status);
        await RolloutTests.PostAsync(api, $"{AgentPath}/rollout/promote-full", new { reason = "dashboard undo test" });
        await RolloutTests.WaitForRolloutAsync(api, r => r.GetProperty("state").GetString() == "Promoted", "promotion");
        var promoted = await WaitForStableAsync(gateway, "1.1.0");
        Assert.Equal(revision, promoted.Revision);

        var undone = await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.AgentStable, DashboardCommands.Undo, deadline.Token);

        Assert.True(undone.Success, undone.Message);
        var restored = await WaitForStableAsync(gateway, "1.0.0");
        Assert.NotEqual(revision, restored.Revision);
        var table = await api.GetFromJsonAsync<RoutingTable>(RolloutApiPaths.Routing).WaitAsync(AppFixture.RequestDeadline);
        Assert.Equal("1.0.0", table!.Find(ResourceNames.DefaultAgent)!.Stable.Version);
    }

    [Fact]
    public async Task The_kill_switch_button_turns_every_flag_off_on_its_track_only()
    {
        using var api = fixture.CreateOperatorClient();
        using var gateway = fixture.CreateGatewayClient();
        using var deadline = new CancellationTokenSource(AppFixture.StartDeadline);
        await fixture.AllowForcedCanaryAsync();
        await FlagTests.EnableFlagEverywhereAsync(api);
        try
        {
            await FlagTests.WaitForBehaviourAsync(gateway, Tracks.Canary, FlagTests.Enriched);
            await FlagTests.WaitForBehaviourAsync(gateway, Tracks.Stable, FlagTests.Enriched);

            var killed = await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.AgentCanary, DashboardCommands.KillSwitch, deadline.Token);

            Assert.True(killed.Success, killed.Message);
            await FlagTests.WaitForBehaviourAsync(gateway, Tracks.Canary, FlagTests.Basic);
            // The button is the canary's: the stable process keeps its flags.
            Assert.Equal(FlagTests.Enriched, await FlagTests.SendAsync(gateway, Tracks.Stable));
        }
        finally
        {
            using var restore = new HttpRequestMessage(HttpMethod.Delete, $"{AgentPath}/flags/kill?track={Tracks.Canary}");
            using (var restored = await api.SendAsync(restore).WaitAsync(AppFixture.RequestDeadline))
            {
                Assert.True(restored.IsSuccessStatusCode, $"DELETE kill: {(int)restored.StatusCode} {await restored.Content.ReadAsStringAsync()}");
            }

            await FlagTests.ClearDefinitionsAsync(api);
        }
    }

    /// <summary>Waits until the stable process itself (its <c>/identity</c>, reached through the gateway) runs <paramref name="version"/>.</summary>
    private static async Task<AgentIdentity> WaitForStableAsync(HttpClient gateway, string version)
    {
        AgentIdentity? identity = null;
        await RoutingTests.WaitUntilAsync(async () =>
        {
            identity = await ServedByTests.IdentityViaGatewayAsync(gateway, Tracks.Stable);
            return identity.Version == version;
        }, $"the stable process to say it runs {version}");
        return identity!;
    }
}
