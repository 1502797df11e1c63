using AgentAspire.Contracts;
using AppHost.Model;
using Microsoft.Extensions.Configuration;

namespace AppHost.DemoTraffic;

/// <summary>The opt-in demo client that keeps the charts of a fresh local run moving.</summary>
public static class DemoTrafficBuilderExtensions
{
    /// <summary>
    /// The demo client, when <see cref="ConfigurationKeys.DemoTraffic"/> is true (local runs only): work items through
    /// the gateway, about 5 a second.
    /// </summary>
    public static void AddDemoTrafficIfEnabled(this IDistributedApplicationBuilder builder, IResourceBuilder<ProjectResource> gateway)
    {
        if (!builder.ExecutionContext.IsRunMode || !bool.TryParse(builder.Configuration[ConfigurationKeys.DemoTraffic], out var enabled) || !enabled)
        {
            return;
        }

        builder.AddProject<Projects.DemoTraffic>(ResourceNames.DemoTraffic)
            .WithRole(ResourceRole.DemoTraffic)
            .WithReference(gateway)
            .WaitFor(gateway)
            .WithHttpHealthCheck(HealthPaths.Health);
    }
}
