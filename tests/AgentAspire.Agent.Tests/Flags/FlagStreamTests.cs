using AgentAspire.Agent.Flags;
using AgentAspire.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Xunit.Abstractions;

namespace AgentAspire.Agent.Tests.Flags;

public sealed class FlagStreamTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_pushed_snapshot_is_evaluated_within_a_deadline_and_kept_on_disk()
    {
        await using var api = await FakeRolloutApi.StartAsync();
        api.Publish(Snapshots.Create(1, Snapshots.Flags(("Planner", true))));
        await using var host = FlagTestHost.Create(new Dictionary<string, string?>
        {
            ["Flags:RolloutApi"] = api.BaseAddress,
            ["Flags:ApiKey"] = "viewer-key",
        });
        await host.StartAsync();

        await Eventually.TrueAsync(() => host.IsEnabledAsync("Planner"), "the first snapshot applies");
        Assert.Equal("viewer-key", api.LastApiKey);
        Assert.Equal(FlagApiPaths.StreamFor(FlagTestHost.Agent, Tracks.Stable), api.LastPath);

        api.Publish(Snapshots.Create(2, Snapshots.Flags(("Planner", false))));
        var propagation = await Eventually.TrueAsync(async () => !await host.IsEnabledAsync("Planner"), "the kill switch applies");
        output.WriteLine($"publish → IFeatureManager: {propagation.TotalMilliseconds:0.0} ms");

        var cache = host.Services.GetRequiredService<FlagSnapshotCache>();
        await Eventually.TrueAsync(() => cache.TryLoad()?.Version == 2, "the new snapshot is written to disk");
    }

    [Fact]
    public async Task Flags_stay_while_RolloutApi_is_down_and_a_restarted_RolloutApi_is_followed_again()
    {
        await using var api = await FakeRolloutApi.StartAsync();
        api.Publish(Snapshots.Create(1, Snapshots.Flags(("Planner", true))));
        await using var host = FlagTestHost.Create(new Dictionary<string, string?> { ["Flags:RolloutApi"] = api.BaseAddress });
        var status = host.Services.GetRequiredService<FlagStreamStatus>();
        await host.StartAsync();
        await Eventually.TrueAsync(() => host.IsEnabledAsync("Planner"), "the first snapshot applies");
        Assert.Equal(1, status.Connections);

        await api.StopAsync();
        await Eventually.TrueAsync(() => !status.Connected, "the agent notices the outage");
        Assert.True(await host.IsEnabledAsync("Planner"));
        Assert.Equal(FlagSource.Remote, host.Store.Source);
        // Failed attempts during the outage delivered nothing, so they are not connections.
        Assert.Equal(1, status.Connections);

        api.Publish(Snapshots.Create(2, Snapshots.Flags(("Planner", false))));
        await api.StartAsync(api.Port);
        await Eventually.TrueAsync(async () => !await host.IsEnabledAsync("Planner"), "the restarted RolloutApi's snapshot applies");
        await Eventually.TrueAsync(() => status.Connected, "the stream counts as connected again");
        Assert.Equal(2, status.Connections);
    }

    [Fact]
    public async Task Malformed_and_foreign_events_are_ignored_and_the_stream_goes_on()
    {
        await using var api = await FakeRolloutApi.StartAsync();
        api.Publish(Snapshots.Create(1, Snapshots.Flags(("Planner", true))));
        await using var host = FlagTestHost.Create(new Dictionary<string, string?> { ["Flags:RolloutApi"] = api.BaseAddress });
        await host.StartAsync();
        await Eventually.TrueAsync(() => host.IsEnabledAsync("Planner"), "the first snapshot applies");

        api.Send(FlagApiPaths.EventName, "2", "{not json");
        api.Send("routing", "3", System.Text.Json.JsonSerializer.Serialize(Snapshots.Create(3, Snapshots.Flags(("Planner", false)))));
        api.Send(FlagApiPaths.EventName, "4", System.Text.Json.JsonSerializer.Serialize(
            Snapshots.Create(4, Snapshots.Flags(("Planner", false)), track: Tracks.Canary)));
        api.Send(FlagApiPaths.EventName, "5", System.Text.Json.JsonSerializer.Serialize(Snapshots.Create(5, Snapshots.Flags(("Other", true)))));

        await Eventually.TrueAsync(() => host.IsEnabledAsync("Other"), "the valid snapshot after the bad ones applies");
        Assert.False(await host.IsEnabledAsync("Planner"));
        Assert.Equal(5, host.Store.Current!.Version);
        Assert.Equal(1, api.Connections);
    }

    [Fact]
    public async Task A_silent_stream_is_reopened_after_the_idle_timeout()
    {
        await using var api = await FakeRolloutApi.StartAsync();
        api.Publish(Snapshots.Create(1, Snapshots.Flags(("Planner", true))));
        await using var host = FlagTestHost.Create(new Dictionary<string, string?>
        {
            ["Flags:RolloutApi"] = api.BaseAddress,
            ["Flags:IdleTimeout"] = "00:00:00.300",
        });
        await host.StartAsync();
        await Eventually.TrueAsync(() => host.IsEnabledAsync("Planner"), "the first snapshot applies");
        var connections = api.Connections;

        await Eventually.TrueAsync(() => api.Connections > connections, "the agent reconnects after a silent period");
        Assert.True(await host.IsEnabledAsync("Planner"));
        Assert.Equal(FlagSource.Remote, host.Store.Source);
    }

    [Fact]
    public async Task Readiness_turns_healthy_when_the_first_snapshot_arrives()
    {
        await using var api = await FakeRolloutApi.StartAsync();
        await using var host = FlagTestHost.Create(new Dictionary<string, string?>
        {
            ["Flags:RolloutApi"] = api.BaseAddress,
            ["Flags:ReadyTimeout"] = "00:05:00",
        });
        var health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartAsync();
        await Eventually.TrueAsync(() => api.Connections == 1, "the agent connects");

        var waiting = (await health.CheckHealthAsync().WaitAsync(Eventually.Deadline)).Entries[FlagReadinessHealthCheck.Name];
        Assert.Equal(HealthStatus.Degraded, waiting.Status);

        api.Publish(Snapshots.Create(3, Snapshots.Flags(("Planner", true))));

        await Eventually.TrueAsync(
            async () => (await health.CheckHealthAsync().WaitAsync(Eventually.Deadline)).Entries[FlagReadinessHealthCheck.Name].Status == HealthStatus.Healthy,
            "readiness follows the first snapshot");
        var ready = (await health.CheckHealthAsync().WaitAsync(Eventually.Deadline)).Entries[FlagReadinessHealthCheck.Name];
        Assert.Contains("RolloutApi", ready.Description, StringComparison.Ordinal);
        Assert.Equal(3L, ready.Data["version"]);
    }
}
