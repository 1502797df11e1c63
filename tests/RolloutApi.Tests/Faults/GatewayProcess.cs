using AgentAspire.TestSupport;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Faults;

/// <summary>
/// The built Gateway.dll as a real process on 127.0.0.1 (a port it binds itself, see ServiceProcess). The test project references the gateway project only
/// to have it built; its output is run from the gateway's own bin folder, so neither app's files overwrite the other's.
/// </summary>
public sealed class GatewayProcess : IDisposable
{
    private readonly ServiceProcess _process;

    private GatewayProcess(ServiceProcess process) => _process = process;

    public Uri Address => _process.Address;

    /// <summary>What the process wrote (warnings and errors), for failure messages.</summary>
    public string Output => _process.Output;

    public static GatewayProcess Start(IDictionary<string, string?> settings) =>
        new(ServiceProcess.Start("Gateway", ServiceProcess.ProjectDll("Gateway"), settings));

    /// <summary>A client that keeps no cookies and does not retry: every request is one request through the gateway.</summary>
    public HttpClient CreateClient() => new(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = Address, Timeout = Deadline.Request };

    /// <summary>Returns once <c>/gateway/routing</c> answers (Kestrel listens and the app is built).</summary>
    public Task WaitListeningAsync(TimeSpan timeout) => _process.WaitOkAsync("/gateway/routing", timeout);

    /// <summary>Returns once <c>/health</c> answers 200: the gateway reports ready.</summary>
    public Task WaitReadyAsync(TimeSpan timeout) => _process.WaitOkAsync("/health", timeout);

    public Task KillAsync() => _process.KillAsync();

    public void Dispose() => _process.Dispose();
}
