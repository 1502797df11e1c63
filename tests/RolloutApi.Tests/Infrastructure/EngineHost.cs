using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using RolloutApi.Catalog;
using RolloutApi.Drivers;
using RolloutApi.Extensions;
using RolloutApi.Http;
using RolloutApi.Model;
using RolloutApi.Rollouts;
using RolloutApi.Rollouts.Analysis;
using RolloutApi.Rollouts.Commands;
using RolloutApi.Rollouts.Reconciling;
using RolloutApi.Routing;

namespace RolloutApi.Tests.Infrastructure;

/// <summary>
/// The engine with production wiring (<c>AddApplicationServices</c>) on a temporary SQLite file and a FakeTimeProvider, without
/// the HTTP server or the background reconciler: tests call <see cref="ReconcilePass.ReconcileAsync"/> themselves.
/// </summary>
public sealed class EngineHost : IAsyncDisposable
{
    public static readonly DateTimeOffset Epoch = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly IHost _host;
    private readonly string _directory;

    private EngineHost(IHost host, FakeTimeProvider time, string directory)
    {
        _host = host;
        Time = time;
        _directory = directory;
    }

    public FakeTimeProvider Time { get; }

    public IServiceProvider Services => _host.Services;

    public RolloutCommands Commands => Services.GetRequiredService<RolloutCommands>();

    public UndoCommand Undo => Services.GetRequiredService<UndoCommand>();

    public ReconcilePass Reconciler => Services.GetRequiredService<ReconcilePass>();

    public RevisionService Revisions => Services.GetRequiredService<RevisionService>();

    public RouteCommands Routing => Services.GetRequiredService<RouteCommands>();

    public RolloutQueries Queries => Services.GetRequiredService<RolloutQueries>();

    public RoutingTableBroadcaster Broadcaster => Services.GetRequiredService<RoutingTableBroadcaster>();

    public RecordingTrackDriver Driver => Services.GetServices<ITrackDriver>().OfType<RecordingTrackDriver>().Single();

    public static async Task<EngineHost> StartAsync(Action<IServiceCollection>? configure = null, IDictionary<string, string?>? settings = null)
    {
        var directory = TestPaths.NewTempDirectory();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            EnvironmentName = Environments.Development,
            ContentRootPath = directory,
            DisableDefaults = true,
        });
        var configuration = RolloutApiFactory.Settings(Path.Combine(directory, "engine.db"));
        configuration["Drivers:Track"] = RecordingTrackDriver.DriverName;
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(configuration);
        builder.AddApplicationServices();
        var time = new FakeTimeProvider(Epoch);
        builder.Services.RemoveAll<TimeProvider>();
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddTrackDriver<RecordingTrackDriver>();
        configure?.Invoke(builder.Services);
        var host = builder.Build();
        await host.Services.GetServices<IHostedService>().OfType<DatabaseInitializer>().Single()
            .StartAsync(CancellationToken.None).WaitAsync(Deadline.Request);
        return new EngineHost(host, time, directory);
    }

    /// <summary>Runs reconciler passes, jumping the clock to each due time, until <paramref name="done"/> holds or nothing is due.</summary>
    public async Task<RolloutStatus> DriveAsync(Func<RolloutStatus, bool> done, int maxPasses = 200)
    {
        for (var pass = 0; pass < maxPasses; pass++)
        {
            var due = await Reconciler.ReconcileAsync(CancellationToken.None).WaitAsync(Deadline.Request);
            var status = await StatusAsync();
            if (done(status))
            {
                return status;
            }

            if (due is null)
            {
                throw new InvalidOperationException($"Nothing is due but the condition does not hold: {status.State} at step {status.CurrentStepIndex}.");
            }

            if (due > Time.GetUtcNow())
            {
                Time.SetUtcNow(due.Value);
            }
        }

        throw new InvalidOperationException("The rollout did not reach the expected state.");
    }

    public async Task<RolloutStatus> StatusAsync() =>
        (await Queries.StatusAsync(RolloutApiFactory.Agent, null, CancellationToken.None).WaitAsync(Deadline.Request))!;

    public async Task<int> CreateRevisionAsync(string version)
    {
        var outcome = await Revisions.CreateAsync(RolloutApiFactory.Agent, version, null, null, Precondition.None, "tester", CancellationToken.None)
            .WaitAsync(Deadline.Request);
        Assert.Null(outcome.Error);
        return outcome.Value!.Number;
    }

    public async Task<RolloutRecord> StartRolloutAsync(int revision, IReadOnlyList<RolloutStep>? steps = null)
    {
        var outcome = await Commands.StartAsync(RolloutApiFactory.Agent, revision, steps, null, Precondition.None, "tester", CancellationToken.None)
            .WaitAsync(Deadline.Request);
        Assert.Null(outcome.Error);
        return outcome.Value!;
    }

    public async Task<IReadOnlyList<AuditEntryView>> AuditAsync(long? rolloutId = null) =>
        [.. (await Queries.AuditAsync(RolloutApiFactory.Agent, rolloutId, null, 500, CancellationToken.None).WaitAsync(Deadline.Request)).Reverse()];

    public int RoutedWeight => Broadcaster.Current.Find(RolloutApiFactory.Agent)!.Weight;

    public async ValueTask DisposeAsync()
    {
        _host.Dispose();
        SqliteConnection.ClearAllPools();
        await Task.CompletedTask;
        TestPaths.TryDelete(_directory);
    }
}

/// <summary>A track driver that records each call together with the canary weight the gateway saw at that moment.</summary>
public sealed class RecordingTrackDriver(RoutingTableBroadcaster broadcaster) : ITrackDriver
{
    public const string DriverName = "recording";

    public string Name => DriverName;

    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>Whether this driver runs builds as the local one does: a different build restarts the track's process.</summary>
    public bool RunsBuilds { get; set; }

    public Task DeployAsync(string track, RevisionSpec revision, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"deploy {track} r{revision.Number}{(revision.Build is { } build ? $" build {build[..8]}" : "")} at weight {Weight}");
        return Task.CompletedTask;
    }

    public bool RestartsToRun(RevisionSpec running, RevisionSpec next) => RunsBuilds && running.Build != next.Build;

    public Task<string?> CheckRevisionAsync(RevisionSpec revision, CancellationToken cancellationToken) =>
        Task.FromResult(revision.Build is null || RunsBuilds ? null : "this driver runs no builds");

    public Task ScaleAsync(string agent, string track, int replicas, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"scale {track} {replicas} at weight {Weight}");
        return Task.CompletedTask;
    }

    public Task ApplyWeightAsync(string agent, int weight, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"weight {weight}");
        return Task.CompletedTask;
    }

    private int Weight => broadcaster.Current.Find(RolloutApiFactory.Agent)?.Weight ?? -1;
}

/// <summary>An analysis provider whose verdicts the test queues up (Pass when the queue is empty).</summary>
public sealed class ScriptedAnalysisProvider : IAnalysisProvider
{
    public const string ProviderName = "scripted";

    public ConcurrentQueue<AnalysisVerdict> Verdicts { get; } = new();

    public List<AnalysisRequest> Requests { get; } = [];

    public string Name => ProviderName;

    public Task<AnalysisResult> AnalyzeAsync(AnalysisRequest request, CancellationToken cancellationToken)
    {
        Requests.Add(request);
        var verdict = Verdicts.TryDequeue(out var next) ? next : AnalysisVerdict.Pass;
        return Task.FromResult(new AnalysisResult(verdict, $"scripted {verdict}"));
    }
}
