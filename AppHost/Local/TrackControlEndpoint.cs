using System.Security.Cryptography;
using System.Text;
using AppHost.Builds;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AppHost.Local;

/// <summary>The body of <c>PUT /tracks/{track}</c>: the build to run (null: the working copy) and the revision's label.</summary>
public sealed record TrackDeployRequest(string? Build, string? Version = null, int? Revision = null);

/// <summary>A stored build: its id and the folder a track runs it from.</summary>
public sealed record StoredBuild(string Build, string Path);

/// <summary>
/// The AppHost's side of RolloutApi's local track driver: a small HTTP API on loopback (random port, a per-run bearer
/// token handed to RolloutApi in its environment) through which a rollout asks for a track to run a build. The AppHost
/// stays the one that starts and stops processes, through Aspire; RolloutApi stays the one that decides.
/// </summary>
public sealed class TrackControlEndpoint : IAsyncDisposable
{
    public const string TracksPath = "/tracks";
    public const string BuildsPath = "/builds";

    private readonly TaskCompletionSource<string> _address = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication? _app;

    /// <summary>The bearer token for this run of the AppHost.</summary>
    public string Token { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>The endpoint's address once it listens (RolloutApi's environment waits for it).</summary>
    public Task<string> Address => _address.Task;

    /// <summary>Starts listening on a free loopback port.</summary>
    public async Task StartAsync(TrackController controller, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        // Explicit URL: the AppHost's own ASPNETCORE_URLS (the dashboard's address) must not be taken for this listener.
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton(controller);
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            if (!IsAuthorized(context.Request))
            {
                await Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
                    detail: "The track control API takes the AppHost's per-run bearer token.").ExecuteAsync(context);
                return;
            }

            await next(context);
        });
        MapTracks(app);
        await app.StartAsync(cancellationToken);
        _app = app;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _address.TrySetResult(address);
    }

    public async ValueTask DisposeAsync()
    {
        _address.TrySetCanceled();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private static void MapTracks(IEndpointRouteBuilder app)
    {
        var tracks = app.MapGroup(TracksPath);
        tracks.MapGet("", GetTracks).WithName(nameof(GetTracks));
        tracks.MapPut("/{track}", DeployTrack).WithName(nameof(DeployTrack));
        app.MapGet(BuildsPath + "/{build}", GetBuild).WithName(nameof(GetBuild));
    }

    /// <summary>Whether a build is stored and intact (RolloutApi asks before it accepts a revision naming it).</summary>
    private static Results<Ok<StoredBuild>, ProblemHttpResult> GetBuild(string build, TrackController controller)
    {
        if (!BuildStore.IsValidHash(build))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid build", detail: $"A build id is {BuildStore.HashRule}.");
        }

        try
        {
            return TypedResults.Ok(new StoredBuild(build, controller.Store.Verify(build)));
        }
        catch (BuildStoreException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Build not stored", detail: ex.Message);
        }
    }

    private static async Task<Ok<IReadOnlyList<object>>> GetTracks(TrackController controller, CancellationToken cancellationToken) =>
        TypedResults.Ok(await controller.StatusAsync(cancellationToken));

    private static async Task<Results<Ok<TrackState>, ProblemHttpResult>> DeployTrack(
        string track, TrackDeployRequest request, TrackController controller, CancellationToken cancellationToken)
    {
        if (request.Build is { } build && !BuildStore.IsValidHash(build))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid build",
                detail: $"A build id is {BuildStore.HashRule}.");
        }

        try
        {
            return TypedResults.Ok(await controller.DeployAsync(track, new TrackTarget(request.Build, request.Version, request.Revision), cancellationToken));
        }
        catch (UnknownTrackException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown track", detail: ex.Message);
        }
        catch (BuildStoreException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Build cannot run", detail: ex.Message);
        }
        catch (TrackDeployException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Track not deployed", detail: ex.Message);
        }
    }

    private bool IsAuthorized(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.Ordinal)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..]), Encoding.UTF8.GetBytes(Token));
    }
}
