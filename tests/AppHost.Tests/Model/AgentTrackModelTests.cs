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
            .Select(name => builder.Resources.Single(r => r.Name == name))
            .Select(track => Assert.Single(track.Annotations.OfType<EndpointAnnotation>()))
            .ToList();

        Assert.All(endpoints, e => Assert.Equal(("http", "http"), (e.Name, e.UriScheme)));
        // No port fixed by a launch profile: the orchestrator gives each track (and each replica) its own.
        Assert.All(endpoints, e => Assert.Null(e.Port));
        Assert.All(endpoints, e => Assert.Null(e.TargetPort));
    }

    [Fact]
    public async Task Locally_each_track_is_an_executable_whose_arguments_name_the_build_chosen_at_each_start()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var store = Directory.CreateTempSubdirectory("agentaspire-model-builds-").FullName;
        try
        {
            var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
                [$"--{ConfigurationKeys.BuildStore}={store}"], cts.Token);

            foreach (var name in new[] { ResourceNames.AgentStable, ResourceNames.AgentCanary })
            {
                var track = Assert.IsType<ExecutableResource>(builder.Resources.Single(r => r.Name == name));
                Assert.Equal("dotnet", track.Command);
                Assert.Contains(track.Annotations.OfType<ResourceCommandAnnotation>(), c => c.Name == AppHost.Builds.WorkingCopyPublisher.CommandName);

                // Evaluated as Aspire evaluates them at a start: the working copy's dll, its content root and its build id.
                var args = new List<object>();
                foreach (var callback in track.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
                {
                    await callback.Callback(new CommandLineArgsCallbackContext(args, track, cts.Token));
                }

                var dll = Assert.IsType<string>(args[0]);
                Assert.EndsWith(Path.Combine("AgentWorker", "bin", "Debug", "net10.0", "AgentWorker.dll"), dll);
                Assert.True(File.Exists(dll), dll);
                Assert.Contains(args, a => a is string s && s.StartsWith("--contentRoot=", StringComparison.Ordinal));
                Assert.Contains(args, a => a is string s && s.StartsWith($"--{ConfigKeys.Agent.Build}=", StringComparison.Ordinal));
            }
        }
        finally
        {
            Directory.Delete(store, recursive: true);
        }
    }
}
