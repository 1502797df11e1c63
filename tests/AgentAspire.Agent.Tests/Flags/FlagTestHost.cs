using System.Diagnostics;
using System.Text.Json;
using AgentAspire.Agent.Flags;
using AgentAspire.Agent.Identity;
using AgentAspire.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.FeatureManagement;

namespace AgentAspire.Agent.Tests.Flags;

/// <summary>An agent host with remote flags wired, its own cache folder, and RolloutApi at an address nobody serves.</summary>
internal sealed class FlagTestHost : IAsyncDisposable
{
    public const string Agent = ResourceNames.DefaultAgent;

    private readonly IHost _host;
    private bool _started;

    private FlagTestHost(IHost host, string folder)
    {
        _host = host;
        Folder = folder;
    }

    public string Folder { get; }

    public string CachePath => Path.Combine(Folder, "flags.json");

    public IServiceProvider Services => _host.Services;

    public IFlagSnapshotStore Store => Services.GetRequiredService<IFlagSnapshotStore>();

    public IVariantFeatureManager Features => Services.GetRequiredService<IVariantFeatureManager>();

    public IAgentIdentity Identity => Services.GetRequiredService<IAgentIdentity>();

    /// <summary>Settings every test host starts from; a test overrides or adds keys.</summary>
    public static Dictionary<string, string?> BaseSettings(string folder) => new()
    {
        ["Agent:Name"] = Agent,
        ["Agent:Track"] = Tracks.Stable,
        ["Agent:Version"] = "1.0.0",
        ["Flags:CachePath"] = Path.Combine(folder, "flags.json"),

        // Port 1 on loopback: refused at once, so a started host has RolloutApi "down" without waiting on anything.
        ["Flags:RolloutApi"] = "http://127.0.0.1:1",
        ["Flags:ReconnectDelay"] = "00:00:00.050",
        ["Flags:MaxReconnectDelay"] = "00:00:00.200",
    };

    public static FlagTestHost Create(
        IDictionary<string, string?>? settings = null,
        Action<HostApplicationBuilder>? before = null,
        Action<HostApplicationBuilder>? after = null,
        string? folder = null)
    {
        folder ??= Directory.CreateTempSubdirectory("aa-flags-").FullName;
        var all = BaseSettings(folder);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(all);
        before?.Invoke(builder);
        builder.AddRemoteFeatureFlags();
        after?.Invoke(builder);
        return new FlagTestHost(builder.Build(), folder);
    }

    public async Task StartAsync()
    {
        await _host.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        _started = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_started)
        {
            await _host.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        _host.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    public Task<bool> IsEnabledAsync(string feature) => Features.IsEnabledAsync(feature).AsTask().WaitAsync(Eventually.Deadline);
}

/// <summary>Snapshots and feature_management JSON for tests.</summary>
internal static class Snapshots
{
    public static FlagSnapshot Create(
        long version, string featureManagementJson, string track = Tracks.Stable, string agent = FlagTestHost.Agent,
        int? revision = 1, string? versionLabel = null) =>
        new(agent, track, version, revision, versionLabel, Json(featureManagementJson));

    public static JsonElement Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary><c>{"feature_flags":[...]}</c> with one plain on/off flag per entry.</summary>
    public static string Flags(params (string Id, bool Enabled)[] flags) =>
        $$"""{"feature_flags":[{{string.Join(",", flags.Select(f => $$"""{"id":"{{f.Id}}","enabled":{{(f.Enabled ? "true" : "false")}}}"""))}}]}""";

    /// <summary>One enabled flag with one client filter.</summary>
    public static string Filtered(string id, string filter, string parametersJson, string requirementType = "Any") =>
        $$$"""{"feature_flags":[{"id":"{{{id}}}","enabled":true,"conditions":{"requirement_type":"{{{requirementType}}}","client_filters":[{"name":"{{{filter}}}","parameters":{{{parametersJson}}}}]}}]}""";
}

/// <summary>Polls a condition until it holds or a deadline passes; never a fixed sleep.</summary>
internal static class Eventually
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    public static async Task<TimeSpan> TrueAsync(Func<Task<bool>> condition, string because, TimeSpan? deadline = null)
    {
        var clock = Stopwatch.StartNew();
        var limit = deadline ?? Deadline;
        while (!await condition().WaitAsync(limit))
        {
            if (clock.Elapsed > limit)
            {
                Assert.Fail($"Not within {limit}: {because}");
            }

            await Task.Delay(1);
        }

        return clock.Elapsed;
    }

    public static Task<TimeSpan> TrueAsync(Func<bool> condition, string because, TimeSpan? deadline = null) =>
        TrueAsync(() => Task.FromResult(condition()), because, deadline);
}
