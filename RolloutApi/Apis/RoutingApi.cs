using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using RolloutApi.Auth;
using RolloutApi.Hosting;
using RolloutApi.Http;
using RolloutApi.Routing;
using ServiceDefaults.Contracts;

namespace RolloutApi.Apis;

/// <summary>The read-only routing views the gateway consumes: a snapshot and a server-sent-event stream.</summary>
public static class RoutingApi
{
    public static IEndpointRouteBuilder MapRoutingApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("").WithTags("Routing").RequireAuthorization(AuthPolicies.Viewer);

        api.MapGet(RolloutApiPaths.Routing, GetRoutingTable)
            .WithName(nameof(GetRoutingTable))
            .WithSummary("The routing table: per agent, the track destinations, version labels and canary weight (basis points).")
            .WithDescription("The ETag is the table's revision, which only grows.");

        api.MapGet(RolloutApiPaths.RoutingStream, StreamRoutingTable)
            .WithName(nameof(StreamRoutingTable))
            .WithSummary("Server-sent events: the current routing table at once, then every change (event 'routing', id = revision).")
            .WithDescription("Idle streams carry a ': keep-alive' comment at the configured heartbeat interval.");

        return app;
    }

    public static Ok<RoutingTable> GetRoutingTable(RoutingTableBroadcaster broadcaster, HttpResponse response)
    {
        var table = broadcaster.Current;
        response.Headers.ETag = Rollouts.Precondition.ETagFor(table.Revision);
        return TypedResults.Ok(table);
    }

    public static EventStreamResult<RoutingTable> StreamRoutingTable(
        RoutingTableBroadcaster broadcaster, IOptions<RolloutApiOptions> options, TimeProvider time, CancellationToken cancellationToken) =>
        new(broadcaster.SubscribeAsync(cancellationToken), RolloutApiPaths.RoutingEventName, table => table.Revision,
            options.Value.StreamHeartbeatInterval, time);
}
