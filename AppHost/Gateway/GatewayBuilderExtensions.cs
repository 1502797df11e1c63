using AgentAspire.Contracts;
using AppHost.Agents;
using AppHost.Model;

namespace AppHost.Gateway;

/// <summary>The gateway's wiring: the agent whose tracks it splits traffic between, read from the track resources.</summary>
public static class GatewayBuilderExtensions
{
    /// <summary>
    /// Routes one agent's traffic to these track resources: references (service discovery), the agent's name and each
    /// track's version label (from its <see cref="AgentTrackAnnotation"/>), and a wait until every track is up.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithAgentTracks(
        this IResourceBuilder<ProjectResource> gateway, params IEnumerable<IResourceWithEndpoints> tracks)
    {
        var annotated = tracks.Select(t => (Resource: t, Track: t.GetAgentTrack())).ToList();
        var agents = annotated.Select(t => t.Track.Agent).Distinct(StringComparer.Ordinal).ToList();
        if (agents.Count != 1)
        {
            throw new ArgumentException($"A gateway routes one agent's tracks, not [{string.Join(", ", agents)}].", nameof(tracks));
        }

        foreach (var (resource, _) in annotated)
        {
            // A project is referenced as a service; a local track process (an executable, which Aspire does not give
            // service discovery) by its endpoint, which yields the same services__<track>__http__0 entry.
            if (resource is IResourceWithServiceDiscovery service)
            {
                gateway.WithReference(gateway.ApplicationBuilder.CreateResourceBuilder(service));
            }
            else
            {
                gateway.WithReference(resource.GetEndpoint(AgentTrackBuilderExtensions.AgentTrackEndpoint));
            }
        }

        gateway.WithConfig(ConfigKeys.Gateway.Agent, agents[0]);
        foreach (var (_, track) in annotated)
        {
            gateway.WithConfig(track.Track == Tracks.Stable ? ConfigKeys.Gateway.StableVersion : ConfigKeys.Gateway.CanaryVersion, track.Version);
        }

        foreach (var (resource, _) in annotated)
        {
            gateway.WaitFor(gateway.ApplicationBuilder.CreateResourceBuilder<IResource>(resource));
        }

        return gateway;
    }
}
