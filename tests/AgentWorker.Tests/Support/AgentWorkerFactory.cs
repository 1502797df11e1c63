using AgentWorker.Queue;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace AgentWorker.Tests.Support;

/// <summary>
/// AgentWorker in memory, as a canary with a version label unique to this instance: test hosts run in parallel and
/// the Prometheus exporter listens to every meter named "AgentWorker", so a test finds its own series by that label.
/// </summary>
internal sealed class AgentWorkerFactory(
    IDictionary<string, string?>? settings = null,
    Action<IServiceCollection>? configureServices = null) : WebApplicationFactory<Program>
{
    public const string Agent = "agent-worker";
    public const string Track = "canary";

    public string Version { get; } = $"9.9.{Random.Shared.Next(1_000_000)}-test";

    public WorkQueue Queue => Services.GetRequiredService<WorkQueue>();

    /// <summary>A client whose requests carry a deadline, so no await in a test can hang.</summary>
    public HttpClient CreateTestClient()
    {
        var client = CreateClient();
        client.Timeout = Deadline.Default;
        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Agent:Name", Agent);
        builder.UseSetting("Agent:Track", Track);
        builder.UseSetting("Agent:Version", Version);
        // Small limits keep the bad-input cases cheap; a short drain keeps disposal fast when a gate stays shut.
        builder.UseSetting("Worker:MaxRequestBodyBytes", "16384");
        builder.UseSetting("Worker:DrainTimeout", "00:00:01");
        // No RolloutApi here: a private last-known flags file, and readiness that does not wait for a snapshot.
        builder.UseSetting("Flags:CachePath", Path.Combine(Path.GetTempPath(), "agentaspire-tests", $"{Guid.NewGuid():N}.flags.json"));
        builder.UseSetting("Flags:ReadyTimeout", "00:00:00.100");
        builder.UseSetting("Flags:RolloutApi", "http://127.0.0.1:9");
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }

        if (configureServices is not null)
        {
            builder.ConfigureTestServices(configureServices);
        }
    }
}
