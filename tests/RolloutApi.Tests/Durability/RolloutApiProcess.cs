using AgentAspire.TestSupport;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Durability;

/// <summary>
/// The built RolloutApi.dll as a real process on 127.0.0.1 (a port it binds itself, see ServiceProcess), configured like AppHost configures it, that a test
/// can SIGKILL. The build output next to the test assembly is reused: nothing is compiled per run.
/// </summary>
public sealed class RolloutApiProcess : IDisposable
{
    private readonly ServiceProcess _process;

    private RolloutApiProcess(ServiceProcess process) => _process = process;

    public Uri Address => _process.Address;

    public bool HasExited => _process.HasExited;

    /// <summary>What the process wrote (warnings and errors), for failure messages.</summary>
    public string Output => _process.Output;

    public static RolloutApiProcess Start(string databasePath, IDictionary<string, string?>? settings = null) =>
        new(ServiceProcess.Start(
            "RolloutApi",
            Path.Combine(AppContext.BaseDirectory, "RolloutApi.dll"),
            RolloutApiFactory.Settings(databasePath),
            settings ?? new Dictionary<string, string?>()));

    public HttpClient CreateClient()
    {
        var client = new HttpClient { BaseAddress = Address, Timeout = Deadline.Request };
        client.DefaultRequestHeaders.Add(AgentAspire.Contracts.AgentHeaders.ApiKey, RolloutApiFactory.OperatorKey);
        return client;
    }

    /// <summary>Returns once <c>/health</c> answers 200 (the schema is migrated and agents are registered by then).</summary>
    public Task WaitReadyAsync(TimeSpan timeout) => _process.WaitOkAsync("/health", timeout);

    /// <summary>SIGKILL: no shutdown hooks, no flushing, no disposal; exactly a crash.</summary>
    public Task KillAsync() => _process.KillAsync();

    public void Dispose() => _process.Dispose();
}
