using System.Security.Claims;
using AgentAspire.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RolloutApi.Auth;
using RolloutApi.Gateways;
using RolloutApi.Hosting;
using RolloutApi.Http;

namespace RolloutApi.Live;

/// <summary>
/// The live view the rollout page and the CLI's <c>--watch</c> read: one server-sent-event stream per agent with its
/// rollout and per-track traffic, and <c>/api/me</c> (who the key is).
/// </summary>
public static class LiveApi
{
    public const string EventName = "live";
    public const string LivePath = "/api/agents/{agent}/live";
    public const string MePath = "/api/me";

    public static IServiceCollection AddLiveView(this IServiceCollection services)
    {
        services.AddOptions<LiveOptions>().BindConfiguration(LiveOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<ITrafficReader, GatewayTrafficReader>();
        services.TryAddSingleton<LiveFeed>();
        services.AddGatewayStatsReader();
        // One stats request per replica per watcher per second: the HTTP client's per-request lines would drown the log.
        services.AddLogging(logging => logging.AddFilter($"System.Net.Http.HttpClient.{GatewayStatsReader.HttpClientName}", LogLevel.Warning));
        return services;
    }

    public static IEndpointRouteBuilder MapLiveApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("").WithTags("Live").RequireAuthorization(AuthPolicies.Viewer);

        api.MapGet(LivePath, StreamLive)
            .WithName(nameof(StreamLive))
            .WithSummary("Server-sent events: the agent, its newest rollout and per-track gateway traffic, at once and then every interval (event 'live').")
            .WithDescription("Traffic is summed over the configured gateways' /gateway/stats; trafficError says why it is missing. " +
                "Browsers send the key with fetch() streaming (EventSource cannot send headers).")
            .ProducesProblems(StatusCodes.Status404NotFound);

        api.MapGet(MePath, GetCaller)
            .WithName(nameof(GetCaller))
            .WithSummary("Who the presented key is: its name, role, and whether it may change things.");

        return app;
    }

    public static async Task<Results<EventStreamResult<LiveSnapshot>, ProblemHttpResult>> StreamLive(
        string agent, LiveFeed feed, IOptions<RolloutApiOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await feed.ReadAsync(agent, sequence: 1, cancellationToken) is not { } first)
        {
            return ApiResults.Problem(OperationError.AgentNotFound(agent));
        }

        return new EventStreamResult<LiveSnapshot>(feed.StreamAsync(agent, first, cancellationToken), EventName, s => s.Sequence,
            options.Value.StreamHeartbeatInterval, time);
    }

    public static Ok<CallerView> GetCaller(ClaimsPrincipal user)
    {
        var role = user.FindFirstValue(ClaimTypes.Role) ?? Roles.Viewer;
        return TypedResults.Ok(new CallerView(user.Identity?.Name ?? "", role, role == Roles.Operator));
    }
}
