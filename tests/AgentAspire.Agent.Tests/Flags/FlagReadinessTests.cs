using AgentAspire.Agent.Flags;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AgentAspire.Agent.Tests.Flags;

public sealed class FlagReadinessTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Readiness_waits_for_the_timeout_then_settles_for_the_local_defaults()
    {
        await using var host = Create();
        Assert.Equal(HealthStatus.Degraded, (await CheckAsync(host)).Status);

        await host.StartAsync();
        var waiting = await CheckAsync(host);
        Assert.Equal(HealthStatus.Degraded, waiting.Status);
        Assert.Contains("Waiting", waiting.Description, StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Equal(HealthStatus.Degraded, (await CheckAsync(host)).Status);

        _time.Advance(TimeSpan.FromSeconds(0.1));
        var settled = await CheckAsync(host);
        Assert.Equal(HealthStatus.Healthy, settled.Status);
        Assert.Contains("local default flags", settled.Description, StringComparison.Ordinal);
        Assert.Equal(nameof(FlagSource.Defaults), settled.Data["source"]);
    }

    [Fact]
    public async Task After_the_timeout_readiness_says_it_serves_the_last_known_flags()
    {
        await using var host = Create();
        host.Services.GetRequiredService<FlagSnapshotCache>().TrySave(Snapshots.Create(8, Snapshots.Flags(("A", true))));
        await host.StartAsync();
        Assert.Equal(HealthStatus.Degraded, (await CheckAsync(host)).Status);

        _time.Advance(TimeSpan.FromSeconds(5));

        var settled = await CheckAsync(host);
        Assert.Equal(HealthStatus.Healthy, settled.Status);
        Assert.Contains("last-known flags from disk (version 8)", settled.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_snapshot_from_RolloutApi_makes_the_agent_ready_at_once()
    {
        await using var host = Create();
        await host.StartAsync();

        host.Store.Apply(Snapshots.Create(2, Snapshots.Flags(("A", true))), FlagSource.Remote);

        var ready = await CheckAsync(host);
        Assert.Equal(HealthStatus.Healthy, ready.Status);
        Assert.Contains("from RolloutApi, version 2", ready.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_flags_check_is_a_readiness_check_not_a_liveness_check()
    {
        await using var host = Create();
        var registration = host.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations
            .Single(r => r.Name == FlagReadinessHealthCheck.Name);

        Assert.DoesNotContain(Extensions.LiveTag, registration.Tags);
    }

    private FlagTestHost Create() => FlagTestHost.Create(before: builder => builder.Services.AddSingleton<TimeProvider>(_time));

    private static async Task<HealthReportEntry> CheckAsync(FlagTestHost host) =>
        (await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync().WaitAsync(TimeSpan.FromSeconds(30)))
            .Entries[FlagReadinessHealthCheck.Name];
}
