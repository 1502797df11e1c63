using AgentAspire.Contracts;
using AppHost.Builds;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AppHost.Local;

/// <summary>
/// Local runs: the build store, the tracks as executables whose build is chosen at each start, the control endpoint
/// RolloutApi's local driver calls to move a track onto a build, and a dashboard button that stores the working copy.
/// </summary>
public sealed class LocalTracks
{
    private readonly Dictionary<string, IResourceWithEndpoints> _tracks = new(StringComparer.Ordinal);

    internal LocalTracks(TrackLaunches launches, TrackControlEndpoint control)
    {
        Launches = launches;
        Control = control;
    }

    public TrackLaunches Launches { get; }

    public TrackControlEndpoint Control { get; }

    /// <summary>The tracks by track name (<c>stable</c>, <c>canary</c>).</summary>
    public IReadOnlyDictionary<string, IResourceWithEndpoints> Tracks => _tracks;

    internal void Add(string track, IResourceWithEndpoints resource) => _tracks.Add(track, resource);
}

public static partial class LocalTracksExtensions
{
    /// <summary>
    /// Creates the local build store (<c>AgentAspire:BuildStore</c>, default <c>~/.agentaspire/builds</c>) and the track
    /// control endpoint, started before the resources so that RolloutApi gets its address in its environment.
    /// </summary>
    public static LocalTracks AddLocalTracks(this IDistributedApplicationBuilder builder)
    {
        var store = new BuildStore(builder.Configuration[ConfigurationKeys.BuildStore] is { Length: > 0 } root ? root : BuildStore.DefaultRoot);
        var launches = new TrackLaunches(store, new WorkingCopy(new Projects.AgentWorker().ProjectPath));
#pragma warning disable CA2000 // Owned by the app's service provider (registered through a factory below), which disposes it when the app stops.
        var control = new TrackControlEndpoint();
#pragma warning restore CA2000
        var local = new LocalTracks(launches, control);
        builder.Services.AddHttpClient();
        builder.Services.AddSingleton(local);
        // A factory registration, so that the container disposes the endpoint (it does not dispose instances it was handed).
        builder.Services.AddSingleton(_ => control);
        builder.Eventing.Subscribe<BeforeStartEvent>(async (@event, cancellationToken) =>
        {
            var services = @event.Services;
            var controller = new TrackController(
                launches, local.Tracks, services.GetRequiredService<ResourceCommandService>(),
                services.GetRequiredService<IHttpClientFactory>(), TimeProvider.System,
                services.GetRequiredService<ILogger<TrackController>>());
            await control.StartAsync(controller, cancellationToken);
            Log.Listening(services.GetRequiredService<ILogger<TrackController>>(), await control.Address, store.Root);
        });
        return local;
    }

    /// <summary>Adds a track process (see <see cref="AgentTrackProcessExtensions"/>) and registers it with the controller.</summary>
    public static IResourceBuilder<ExecutableResource> AddTrack(this IDistributedApplicationBuilder builder, LocalTracks local, string track)
    {
        var resource = builder.AddAgentTrackProcess(ResourceNames.ForTrack(track), local.Launches);
        local.Add(track, resource.Resource);
        return resource;
    }

    /// <summary>Tells RolloutApi where the track control endpoint listens and the token it takes (its local track driver).</summary>
    public static IResourceBuilder<ProjectResource> WithLocalTrackControl(this IResourceBuilder<ProjectResource> rolloutApi, LocalTracks local) =>
        rolloutApi.WithEnvironment(async context =>
        {
            context.EnvironmentVariables[ConfigKeys.ToEnvironmentVariable(ConfigKeys.Drivers.LocalControlUrl)] =
                await local.Control.Address.WaitAsync(context.CancellationToken);
            context.EnvironmentVariables[ConfigKeys.ToEnvironmentVariable(ConfigKeys.Drivers.LocalToken)] = local.Control.Token;
        });

    /// <summary>A dashboard button that publishes the working copy's agent into the build store and shows the build id.</summary>
    public static IResourceBuilder<T> WithStoreWorkingCopyCommand<T>(this IResourceBuilder<T> resource, LocalTracks local)
        where T : IResource =>
        resource.WithCommand(WorkingCopyPublisher.CommandName, "Store the working copy as a build", async context =>
        {
            var logger = context.Services.GetRequiredService<ILogger<WorkingCopyPublisher>>();
            var publisher = new WorkingCopyPublisher(local.Launches.Store, new Projects.AgentWorker().ProjectPath, logger);
            try
            {
                var build = await publisher.PublishAsync(context.CancellationToken);
                return CommandResults.Success($"Stored build {build}. Roll it out: agentaspire set build {ResourceNames.DefaultAgent} {build} --version <label>");
            }
            catch (BuildStoreException ex)
            {
                return CommandResults.Failure(ex.Message);
            }
        }, new CommandOptions
        {
            IconName = "BoxArrowUp",
            Description = "dotnet publish AgentWorker (Release) into the content-addressed build store; the result names the build id.",
            ConfirmationMessage = "Publish the working copy's agent into the build store? This runs dotnet publish (about a minute).",
        });

    private static partial class Log
    {
        [LoggerMessage(EventId = 8102, Level = LogLevel.Information, Message = "Track control endpoint for RolloutApi's local driver: {Address} (build store {Store})")]
        public static partial void Listening(ILogger logger, string address, string store);
    }
}
