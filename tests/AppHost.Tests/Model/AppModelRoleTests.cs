using AgentAspire.Contracts;
using AppHost.Dashboard;
using AppHost.Model;

namespace AppHost.Tests.Model;

/// <summary>
/// The app model describes itself: every resource the AppHost declares says which part of AgentAspire it is, and the
/// agent tracks say which agent, track, version and project they run. The publisher and the dashboard commands read
/// these annotations, so they are checked on the real AppHost (model only, nothing started).
/// </summary>
public sealed class AppModelRoleTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task EveryResourceTheAppHostDeclaresCarriesItsRole()
    {
        var resources = await ResourcesAsync($"--{ConfigurationKeys.DemoTraffic}=true", $"--{ConfigurationKeys.Prometheus}=true");

        // Parameters, and children such as the hidden rebuilder Aspire adds under each project, are not parts of their own.
        var roles = resources.Where(r => r is not (ParameterResource or IResourceWithParent)).ToDictionary(r => r.Name, r => r.GetRole());
        Assert.Equal(
            new Dictionary<string, ResourceRole?>
            {
                [ResourceNames.RolloutApi] = ResourceRole.ControlPlane,
                [ResourceNames.UpstreamApi] = ResourceRole.UpstreamSimulator,
                [ResourceNames.AgentStable] = ResourceRole.AgentTrack,
                [ResourceNames.AgentCanary] = ResourceRole.AgentTrack,
                [ResourceNames.Gateway] = ResourceRole.Gateway,
                [ResourceNames.DemoTraffic] = ResourceRole.DemoTraffic,
                [ResourceNames.Prometheus] = ResourceRole.Metrics,
            },
            roles.Where(r => r.Key != "aspire-dashboard").ToDictionary());
    }

    [Fact]
    public async Task EachAgentTrackCarriesItsAgentTrackVersionParameterAndProject()
    {
        var resources = await ResourcesAsync();
        var parameters = resources.OfType<ParameterResource>().ToDictionary(p => p.Name);

        foreach (var (name, trackName, versionParameter) in new[]
        {
            (ResourceNames.AgentStable, Tracks.Stable, ParameterNames.StableVersion),
            (ResourceNames.AgentCanary, Tracks.Canary, ParameterNames.CanaryVersion),
        })
        {
            var resource = Assert.Single(resources, r => r.Name == name);
            Assert.True(resource.TryGetAgentTrack(out var track));
            Assert.Equal((ResourceNames.DefaultAgent, trackName), (track.Agent, track.Track));
            // The version label is the track's parameter itself, so --Parameters:canary-version=... reaches every reader.
            Assert.Same(parameters[versionParameter], Assert.Single(track.Version.ValueProviders));
            Assert.Equal("AgentWorker", track.ProjectName);
            Assert.True(File.Exists(track.ProjectPath), track.ProjectPath);
        }

        // Only the tracks are tracks: nothing else carries the annotation.
        Assert.Equal(
            [ResourceNames.AgentStable, ResourceNames.AgentCanary],
            resources.Where(r => r.TryGetAgentTrack(out _)).Select(r => r.Name));
    }

    /// <summary>The dashboard buttons are made from the track annotation: the kill switch names the track it is on.</summary>
    [Fact]
    public async Task RolloutCommandsOnEachTrackAreMadeForItsAgentAndTrack()
    {
        var resources = await ResourcesAsync();

        foreach (var (name, track) in new[] { (ResourceNames.AgentStable, Tracks.Stable), (ResourceNames.AgentCanary, Tracks.Canary) })
        {
            var commands = Assert.Single(resources, r => r.Name == name).Annotations.OfType<ResourceCommandAnnotation>().ToDictionary(c => c.Name);
            Assert.Superset(
                new HashSet<string> { DashboardCommands.Promote, DashboardCommands.Abort, DashboardCommands.Undo, DashboardCommands.KillSwitch },
                commands.Keys.ToHashSet());
            Assert.Equal($"Kill switch: all flags off ({track})", commands[DashboardCommands.KillSwitch].DisplayName);
            Assert.Contains($"the {track} track", commands[DashboardCommands.KillSwitch].ConfirmationMessage);
        }

        Assert.All(
            resources.Where(r => r.GetRole() != ResourceRole.AgentTrack),
            r => Assert.DoesNotContain(r.Annotations.OfType<ResourceCommandAnnotation>(), c => c.Name == DashboardCommands.Promote));
    }

    [Fact]
    public void RolloutCommandsOnAResourceThatIsNoTrackAreAWiringMistake()
    {
        var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions
        {
            AssemblyName = typeof(ParameterNames).Assembly.GetName().Name,
            DisableDashboard = true,
        });
        var rolloutApi = builder.AddProject<Projects.RolloutApi>(ResourceNames.RolloutApi);
        var operatorKey = builder.AddParameter("key", secret: true);
        var notATrack = builder.AddProject<Projects.AgentWorker>("worker");

        var error = Assert.Throws<InvalidOperationException>(() => notATrack.WithRolloutCommands(rolloutApi, operatorKey));

        Assert.Contains("WithAgentTrack", error.Message);
    }

    private static async Task<IReadOnlyList<IResource>> ResourcesAsync(params string[] arguments)
    {
        using var cts = new CancellationTokenSource(Deadline);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(arguments, cts.Token).WaitAsync(Deadline);
        return [.. builder.Resources];
    }
}
