using AgentAspire.Contracts;
using AppHost.Model;

namespace AppHost.Tests.Model;

/// <summary>The annotation on its own: what it accepts, and what attaching it to a resource does.</summary>
public sealed class AgentTrackAnnotationTests
{
    [Theory]
    [InlineData("blue")]
    [InlineData("Stable")]
    [InlineData("")]
    public void OnlyTheTwoTracksAreAccepted(string track)
    {
        Assert.ThrowsAny<ArgumentException>(() => new AgentTrackAnnotation("agent", track, ReferenceExpression.Create($"1.0.0"), "/src/Agent/Agent.csproj"));
    }

    [Fact]
    public async Task WithAgentTrackSetsTheIdentityTheAgentReadsAndALaterCallReplacesTheTrack()
    {
        var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions
        {
            AssemblyName = typeof(ParameterNames).Assembly.GetName().Name,
            DisableDashboard = true,
        });
        var track = builder.AddProject<Projects.AgentWorker>("worker")
            .WithAgentTrack("summarizer", Tracks.Stable, "2.0.0")
            .WithAgentTrack("summarizer", Tracks.Canary, "2.1.0");

        var annotation = Assert.Single(track.Resource.Annotations.OfType<AgentTrackAnnotation>());
        Assert.Equal((Tracks.Canary, "AgentWorker"), (annotation.Track, annotation.ProjectName));
        Assert.Equal(ResourceRole.AgentTrack, track.Resource.GetRole());

        var environment = new Dictionary<string, object>();
        var context = new EnvironmentCallbackContext(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Run), track.Resource, environment);
        foreach (var callback in track.Resource.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        Assert.Equal("summarizer", environment[ConfigKeys.ToEnvironmentVariable(ConfigKeys.Agent.Name)]);
        Assert.Equal(Tracks.Canary, environment[ConfigKeys.ToEnvironmentVariable(ConfigKeys.Agent.Track)]);
        Assert.Equal("2.1.0", environment[ConfigKeys.ToEnvironmentVariable(ConfigKeys.Agent.Version)]);
    }
}
