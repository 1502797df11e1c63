using AgentAspire.Contracts;

namespace AppHost.Tests.Model;

/// <summary>
/// The app model as <c>dotnet run --project AppHost</c> builds it (the whole-app tests randomise every port, which is
/// how a shared fixed port in the agent's launch profile went unnoticed): each track must get its own address.
/// </summary>
public sealed class AgentTrackModelTests
{
    [Fact]
    public async Task Each_agent_track_has_its_own_http_endpoint_and_no_fixed_port_shared_with_the_other()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(cts.Token);

        var endpoints = new[] { ResourceNames.AgentStable, ResourceNames.AgentCanary }
            .Select(name => builder.Resources.OfType<ProjectResource>().Single(r => r.Name == name))
            .Select(track => Assert.Single(track.Annotations.OfType<EndpointAnnotation>()))
            .ToList();

        Assert.All(endpoints, e => Assert.Equal(("http", "http"), (e.Name, e.UriScheme)));
        // No port fixed by a launch profile: the orchestrator gives each track (and each replica) its own.
        Assert.All(endpoints, e => Assert.Null(e.Port));
        Assert.All(endpoints, e => Assert.Null(e.TargetPort));
    }
}
