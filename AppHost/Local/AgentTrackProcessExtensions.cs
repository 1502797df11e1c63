using AgentAspire.Contracts;
using AppHost.Agents;

namespace AppHost.Local;

/// <summary>
/// A local agent track as an Aspire executable, <c>dotnet &lt;build&gt;/AgentWorker.dll</c>, rather than a project: a project
/// resource's launch command is fixed before its first start, while an executable's arguments are computed by Aspire at
/// every start and restart — which is what lets a rollout move a track onto another build by restarting it.
/// </summary>
public static class AgentTrackProcessExtensions
{
    /// <summary>
    /// Adds the track <paramref name="name"/>: its process runs whatever <paramref name="launches"/> says at each start, on its
    /// own http endpoint, with the OpenTelemetry settings and environment a project resource would get.
    /// </summary>
    public static IResourceBuilder<ExecutableResource> AddAgentTrackProcess(
        this IDistributedApplicationBuilder builder, string name, TrackLaunches launches)
    {
        var track = builder.AddExecutable(name, "dotnet", launches.WorkingCopy.ProjectDirectory)
            .WithArgs(context =>
            {
                var launch = launches.Launch(name);
                context.Args.Add(launch.EntryAssembly);
                // Command-line configuration wins over the environment: the content root holds the build's own
                // appsettings.json, and the identity the build reports is fixed by what was launched.
                context.Args.Add($"--contentRoot={launch.ContentRoot}");
                context.Args.Add($"--{ConfigKeys.Agent.Build}={launch.BuildId}");
                if (launch.Target.Version is { } version)
                {
                    context.Args.Add($"--{ConfigKeys.Agent.Version}={version}");
                }

                if (launch.Target.Revision is { } revision)
                {
                    context.Args.Add($"--{ConfigKeys.Agent.Revision}={revision}");
                }
            })
            .WithHttpEndpoint(name: AgentTrackBuilderExtensions.AgentTrackEndpoint)
            .WithOtlpExporter();

        var endpoint = track.GetEndpoint(AgentTrackBuilderExtensions.AgentTrackEndpoint);
        return track.WithEnvironment(context =>
        {
            // What a project resource gets from Aspire: where to listen (the proxy forwards to the target port) and the
            // environment name its launch profile would have set.
            context.EnvironmentVariables["ASPNETCORE_URLS"] = ReferenceExpression.Create(
                $"http://localhost:{endpoint.Property(EndpointProperty.TargetPort)}");
            context.EnvironmentVariables["ASPNETCORE_ENVIRONMENT"] = builder.Environment.EnvironmentName;
            context.EnvironmentVariables["DOTNET_ENVIRONMENT"] = builder.Environment.EnvironmentName;
        });
    }
}
