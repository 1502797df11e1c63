using System.Text.Json;
using AgentAspire.Agent.Flags;
using Microsoft.Extensions.DependencyInjection;

namespace AgentAspire.Agent.Tests.Flags;

public sealed class FlagSnapshotCacheTests
{
    [Fact]
    public async Task A_saved_snapshot_loads_back_with_its_schema_verbatim()
    {
        await using var host = FlagTestHost.Create();
        var cache = host.Services.GetRequiredService<FlagSnapshotCache>();
        var snapshot = Snapshots.Create(
            9, Snapshots.Filtered("A", "AgentAspire.Track", """{"Tracks":["canary"]}"""), revision: 4, versionLabel: "1.2.0");

        Assert.True(cache.TrySave(snapshot));
        var loaded = cache.TryLoad();

        Assert.NotNull(loaded);
        Assert.Equal(host.CachePath, cache.Path);
        Assert.Equal((snapshot.Agent, snapshot.Track, 9L, (int?)4, "1.2.0"), (loaded.Agent, loaded.Track, loaded.Version, loaded.Revision, loaded.VersionLabel));
        Assert.True(JsonElement.DeepEquals(snapshot.FeatureManagement, loaded.FeatureManagement));
        Assert.Contains("\"feature_management\"", await File.ReadAllTextAsync(cache.Path).WaitAsync(Eventually.Deadline));
    }

    [Fact]
    public async Task Saving_replaces_the_file_by_rename_and_leaves_no_temporary_file()
    {
        await using var host = FlagTestHost.Create();
        var cache = host.Services.GetRequiredService<FlagSnapshotCache>();

        Assert.True(cache.TrySave(Snapshots.Create(1, Snapshots.Flags(("A", true)))));
        Assert.True(cache.TrySave(Snapshots.Create(2, Snapshots.Flags(("A", false)))));

        Assert.Equal(2, cache.TryLoad()!.Version);
        Assert.Equal([cache.Path], Directory.GetFiles(Path.GetDirectoryName(cache.Path)!));
    }

    [Fact]
    public async Task A_reader_never_sees_a_partly_written_file()
    {
        await using var host = FlagTestHost.Create();
        var cache = host.Services.GetRequiredService<FlagSnapshotCache>();

        // Large enough that a non-atomic write would be caught half-done by a concurrent reader.
        var many = Snapshots.Flags([.. Enumerable.Range(0, 2000).Select(i => ($"flag-{i}", i % 2 == 0))]);
        Assert.True(cache.TrySave(Snapshots.Create(0, many)));
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            for (var version = 1; version <= 60; version++)
            {
                Assert.True(cache.TrySave(Snapshots.Create(version, many)));
            }
        });

        var reads = 0;
        var last = -1L;
        while (!writer.IsCompleted || reads == 0)
        {
            var loaded = cache.TryLoad();
            Assert.NotNull(loaded);
            Assert.True(loaded.Version >= last, "versions read never go back");
            last = loaded.Version;
            reads++;
        }

        await writer.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(60, cache.TryLoad()!.Version);
    }

    [Fact]
    public async Task A_corrupt_file_is_ignored_and_the_agent_starts_on_its_defaults()
    {
        await using var host = FlagTestHost.Create(new Dictionary<string, string?>
        {
            ["feature_management:feature_flags:0:id"] = "Local",
            ["feature_management:feature_flags:0:enabled"] = "true",
        });
        await File.WriteAllTextAsync(host.CachePath, """{"agent":"agent-worker","track":"stable","version":3,"feature_manag""").WaitAsync(Eventually.Deadline);

        Assert.Null(host.Services.GetRequiredService<FlagSnapshotCache>().TryLoad());
        await host.StartAsync();

        Assert.Equal(FlagSource.Defaults, host.Store.Source);
        Assert.True(await host.IsEnabledAsync("Local"));
    }

    [Fact]
    public async Task The_last_known_snapshot_is_in_force_at_start_before_the_stream_connects()
    {
        var folder = Directory.CreateTempSubdirectory("aa-flags-").FullName;
        await using (var previousRun = FlagTestHost.Create(folder: Directory.CreateTempSubdirectory("aa-flags-").FullName))
        {
            // A snapshot written by an earlier run of the same agent and track.
            var earlier = new FlagSnapshotCache(
                Microsoft.Extensions.Options.Options.Create(new FlagsOptions { CachePath = Path.Combine(folder, "flags.json") }),
                previousRun.Identity,
                Microsoft.Extensions.Logging.Abstractions.NullLogger<FlagSnapshotCache>.Instance);
            Assert.True(earlier.TrySave(Snapshots.Create(12, Snapshots.Flags(("Remembered", true)), versionLabel: "1.3.0")));
        }

        // RolloutApi is down (nothing listens on the configured port).
        await using var host = FlagTestHost.Create(folder: folder);
        await host.StartAsync();

        Assert.Equal(FlagSource.LastKnown, host.Store.Source);
        Assert.Equal(12, host.Store.Current!.Version);
        Assert.True(await host.IsEnabledAsync("Remembered"));
        Assert.Equal("1.3.0", host.Identity.Version);
    }

    [Fact]
    public async Task A_last_known_snapshot_of_another_track_is_not_used()
    {
        await using var host = FlagTestHost.Create();
        var cache = host.Services.GetRequiredService<FlagSnapshotCache>();
        Assert.True(cache.TrySave(Snapshots.Create(12, Snapshots.Flags(("Remembered", true)), track: "canary")));

        await host.StartAsync();

        Assert.Equal(FlagSource.Defaults, host.Store.Source);
        Assert.False(await host.IsEnabledAsync("Remembered"));
    }
}
