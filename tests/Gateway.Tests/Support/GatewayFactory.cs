using AgentAspire.TestSupport;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Support;

/// <summary>
/// The gateway in-process (WebApplicationFactory) with its tracks pointed at real Kestrel backends and its routing
/// stream at a fake RolloutApi (or at a closed port, for a cold start without RolloutApi).
/// </summary>
public sealed class GatewayFactory(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Program>
{
    /// <summary>Everything the gateway's own code logged (categories under <c>Gateway.</c>).</summary>
    public CapturingLoggerProvider Logs { get; } = new("Gateway.");

    public static GatewayFactory Create(AgentStandIn stable, AgentStandIn canary, Uri rolloutApi, params (string Key, string? Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Agent"] = Tables.Agent,
            ["Gateway:RolloutApi"] = rolloutApi.ToString(),
            ["Gateway:ApiKey"] = FakeRolloutApi.ViewerKey,
            ["Gateway:Stable:Destination"] = stable.Address.ToString(),
            ["Gateway:Stable:Version"] = "1.0.0",
            ["Gateway:Canary:Destination"] = canary.Address.ToString(),
            ["Gateway:Canary:Version"] = "1.1.0",
            ["Gateway:ReconnectMinDelay"] = "00:00:00.050",
            ["Gateway:ReconnectMaxDelay"] = "00:00:00.200",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return new GatewayFactory(settings);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
    }
}
