using AgentAspire.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace AgentAspire.Agent.Tests.Identity;

/// <summary>The agent library puts the agent's identity on its telemetry resource (the shared defaults no longer do).</summary>
public sealed class AgentIdentityTelemetryTests
{
    [Fact]
    public void AddAgentDefaults_puts_agent_track_and_version_on_the_telemetry_resource()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [ConfigKeys.Agent.Name] = "summarizer",
            [ConfigKeys.Agent.Track] = Tracks.Canary,
            [ConfigKeys.Agent.Version] = "2.3.4",
            ["Flags:RolloutApi"] = "http://127.0.0.1:1",
            ["Flags:CachePath"] = Path.Combine(Path.GetTempPath(), $"aa-{Guid.NewGuid():N}.flags.json"),
        });
        builder.AddAgentDefaults();
        builder.AddAgentDefaults();
        builder.Services.AddOpenTelemetry().WithTracing(_ => { });
        using var host = builder.Build();

        var attributes = host.Services.GetRequiredService<TracerProvider>().GetResource().Attributes.ToList();

        Assert.Contains(new KeyValuePair<string, object>(AgentTelemetryNames.AgentAttribute, "summarizer"), attributes);
        Assert.Contains(new KeyValuePair<string, object>(AgentTelemetryNames.TrackAttribute, Tracks.Canary), attributes);
        Assert.Single(attributes, a => a.Key == AgentTelemetryNames.VersionAttribute && Equals(a.Value, "2.3.4"));
    }
}
