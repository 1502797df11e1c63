using AgentAspire.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using RolloutApi.Auth;
using RolloutApi.Hosting;
using RolloutApi.Http;
using RolloutApi.Routing;

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
            .WithDescription("Idle streams carry a ': keep-alive' comment at the configured heartbeat interval. A gateway names itself with " +
                "?gateway={id} so that RolloutApi counts it among the gateways whose acknowledgement an abort waits for.")
            .ProducesProblems(StatusCodes.Status400BadRequest);

        api.MapGet(RolloutApiPaths.RoutingGateways, ListGateways)
            .WithName(nameof(ListGateways))
            .WithSummary("Every known gateway: connected or not, the routing revision it applies, how far and how long it lags.");

        // Viewer, not operator: gateways hold the viewer key, and a report changes no rollout state, only what RolloutApi
        // knows about who applied what.
        api.MapPut(RolloutApiPaths.RoutingGateways + "/{id}", ReportGateway)
            .WithName(nameof(ReportGateway))
            .WithSummary("A gateway reports the routing revision it applies (and whether its lease fell back to a safe mode).")
            .ProducesProblems(StatusCodes.Status400BadRequest);

        api.MapDelete(RolloutApiPaths.RoutingGateways + "/{id}", RemoveGateway)
            .WithName(nameof(RemoveGateway))
            .WithSummary("A gateway stopping gracefully: it no longer counts among the gateways an abort waits for.")
            .ProducesProblems(StatusCodes.Status400BadRequest);

        return app;
    }

    public static Ok<RoutingTable> GetRoutingTable(RoutingTableBroadcaster broadcaster, HttpResponse response)
    {
        var table = broadcaster.Current;
        response.Headers.ETag = Precondition.ETagFor(table.Revision);
        return TypedResults.Ok(table);
    }

    public static Results<EventStreamResult<RoutingTable>, ProblemHttpResult> StreamRoutingTable(
        string? gateway, RoutingTableBroadcaster broadcaster, GatewayRegistry gateways, IOptions<RolloutApiOptions> options,
        TimeProvider time, CancellationToken cancellationToken)
    {
        if (gateway is not null && !IsValidGatewayId(gateway))
        {
            return InvalidGatewayId();
        }

        var tables = gateway is null ? broadcaster.SubscribeAsync(cancellationToken) : Tracked(gateway, broadcaster, gateways, cancellationToken);
        return new EventStreamResult<RoutingTable>(tables, RolloutApiPaths.RoutingEventName, table => table.Revision,
            options.Value.StreamHeartbeatInterval, time);
    }

    public static Ok<IReadOnlyList<GatewayView>> ListGateways(GatewayRegistry gateways, RoutingTableBroadcaster broadcaster) =>
        TypedResults.Ok(gateways.Status(broadcaster.Current.Revision).Gateways);

    public static Results<NoContent, ProblemHttpResult> ReportGateway(string id, GatewayReport report, GatewayRegistry gateways)
    {
        if (!IsValidGatewayId(id))
        {
            return InvalidGatewayId();
        }

        if (report.Revision < 0)
        {
            return ApiResults.Problem(OperationError.Invalid("revision", "revision must not be negative."));
        }

        gateways.Report(id, report);
        return TypedResults.NoContent();
    }

    public static Results<NoContent, ProblemHttpResult> RemoveGateway(string id, GatewayRegistry gateways)
    {
        if (!IsValidGatewayId(id))
        {
            return InvalidGatewayId();
        }

        gateways.Remove(id);
        return TypedResults.NoContent();
    }

    /// <summary>1-128 characters of letters, digits, '.', '_', ':' or '-' (a pod name, a host name with a suffix).</summary>
    public static bool IsValidGatewayId(string id) =>
        id.Length is > 0 and <= 128 && id.All(static c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-');

    private static ProblemHttpResult InvalidGatewayId() => ApiResults.Problem(OperationError.Invalid(
        RolloutApiPaths.GatewayParameter, "A gateway id is 1-128 characters of letters, digits, '.', '_', ':' or '-'."));

    /// <summary>The table stream, with the gateway counted as connected for as long as it reads it.</summary>
    private static async IAsyncEnumerable<RoutingTable> Tracked(
        string gateway, RoutingTableBroadcaster broadcaster, GatewayRegistry gateways,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var connection = gateways.Connect(gateway);
        await foreach (var table in broadcaster.SubscribeAsync(cancellationToken))
        {
            yield return table;
        }
    }
}
