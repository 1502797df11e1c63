using AgentAspire.Agent.Flags;
using AgentAspire.Agent.Identity;
using AgentAspire.Contracts;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry;
using OpenTelemetry.Resources;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What an agent adds to the service defaults to take part in rollouts: its identity (on every response, metric, log
/// and trace) and its flags from RolloutApi. A team's own agent calls <see cref="AddAgentDefaults"/> after
/// <c>AddServiceDefaults</c>, and <see cref="MapAgentEndpoints"/> after <c>MapDefaultEndpoints</c>.
/// </summary>
public static class AgentExtensions
{
    /// <summary>The agent's identity (<see cref="AddAgentIdentity"/>) and its remote feature flags (<c>AddRemoteFeatureFlags</c>).</summary>
    public static TBuilder AddAgentDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.AddAgentIdentity();
        builder.AddRemoteFeatureFlags();
        return builder;
    }

    /// <summary>
    /// Registers the agent's identity (<see cref="IAgentIdentity"/>) from the <c>Agent</c> section, validated at start;
    /// stamps it on every response (<see cref="AgentIdentityEndpoints"/>) and on the process's telemetry resource
    /// (agent, track, version). Safe to call twice. The gateway and RolloutApi have no identity and do not call it.
    /// </summary>
    public static TBuilder AddAgentIdentity<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        if (services.Any(d => d.ImplementationType == typeof(AgentIdentityStartupFilter)))
        {
            return builder;
        }

        services.AddOptions<AgentIdentityOptions>()
            .BindConfiguration(AgentIdentityOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IAgentIdentity, AgentIdentity>();
        // Every response says which agent process answered it: the gateway and the tests read it from here.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupFilter, AgentIdentityStartupFilter>());

        // The agent's telemetry carries agent, track and version as resource attributes, as configured at start.
        var identity = builder.Configuration.GetSection(AgentIdentityOptions.SectionName);
        services.AddOpenTelemetry().ConfigureResource(resource =>
        {
            if (!identity.Exists())
            {
                return;
            }

            var options = identity.Get<AgentIdentityOptions>() ?? new AgentIdentityOptions();
            resource.AddAttributes(
            [
                new(AgentTelemetryNames.AgentAttribute, options.Name),
                new(AgentTelemetryNames.TrackAttribute, options.Track),
                new(AgentTelemetryNames.VersionAttribute, options.Version),
                new("service.version", options.Version),
            ]);
        });
        return builder;
    }

    /// <summary>
    /// Maps the agent's own endpoints: <c>GET /identity</c> (<see cref="AgentPaths.Identity"/>) and, with remote flags,
    /// <c>GET /identity/flags</c> (<see cref="AgentPaths.Flags"/>).
    /// </summary>
    public static IEndpointRouteBuilder MapAgentEndpoints(this IEndpointRouteBuilder app) => app.MapAgentIdentity().MapAgentFlagStatus();
}
