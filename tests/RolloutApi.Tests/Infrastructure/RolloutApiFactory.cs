using System.Net.Http.Headers;
using AgentAspire.Contracts;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace RolloutApi.Tests.Infrastructure;

/// <summary>
/// RolloutApi in memory, on its own temporary SQLite file, with one operator key, one viewer key and the default agent.
/// Optionally on a caller-owned <see cref="TimeProvider"/> (a FakeTimeProvider freezes timers and the reconciler's clock).
/// </summary>
public sealed class RolloutApiFactory : WebApplicationFactory<Program>
{
    public const string OperatorKey = "operator-key-for-tests";
    public const string ViewerKey = "viewer-key-for-tests";
    public const string Agent = ResourceNames.DefaultAgent;
    public const string StableVersion = "1.0.0";
    public const string IdleCanaryVersion = "1.1.0";

    private readonly TimeProvider? _time;
    private readonly Dictionary<string, string?> _settings;

    public RolloutApiFactory(TimeProvider? time = null, IDictionary<string, string?>? settings = null)
    {
        _time = time;
        Directory = TestPaths.NewTempDirectory();
        DatabasePath = Path.Combine(Directory, "rollout-api.db");
        _settings = new Dictionary<string, string?>(Settings(DatabasePath));
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    public string Directory { get; }

    public string DatabasePath { get; }

    /// <summary>The configuration the real service gets from AppHost, for a given database file.</summary>
    public static Dictionary<string, string?> Settings(string databasePath) => new()
    {
        ["RolloutApi:DatabasePath"] = databasePath,
        ["Auth:ApiKeys:ops:Key"] = OperatorKey,
        ["Auth:ApiKeys:ops:Role"] = "operator",
        ["Auth:ApiKeys:dashboard:Key"] = ViewerKey,
        ["Auth:ApiKeys:dashboard:Role"] = "viewer",
        [$"Agents:{Agent}:Stable:Destination"] = "http://agent-stable",
        [$"Agents:{Agent}:Stable:Version"] = StableVersion,
        [$"Agents:{Agent}:Canary:Destination"] = "http://agent-canary",
        [$"Agents:{Agent}:Canary:Version"] = IdleCanaryVersion,
        [$"Agents:{Agent}:Image"] = "registry.example/agent-worker",
    };

    public HttpClient CreateClient(string? apiKey)
    {
        var client = CreateClient();
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    public HttpClient Operator() => CreateClient(OperatorKey);

    public HttpClient Viewer() => CreateClient(ViewerKey);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.ConfigureAppConfiguration(configuration => configuration.AddInMemoryCollection(_settings));
        builder.ConfigureServices(services =>
        {
            if (_time is not null)
            {
                services.RemoveAll<TimeProvider>();
                services.AddSingleton(_time);
            }
        });
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            SqliteConnection.ClearAllPools();
            TestPaths.TryDelete(Directory);
        }
    }
}
