using System.Text.Json.Serialization;
using AgentAspire.Contracts;
using Gateway.Identity;
using Gateway.Routing;
using Gateway.Stats;
using Gateway.Stream;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Gateway.Apis;

/// <summary>The gateway's own read-only endpoints under <c>/gateway</c>; everything outside them is proxied to the agent.</summary>
public static class GatewayApi
{
    public const string Prefix = "/gateway";
    public const string RoutingPath = Prefix + "/routing";
    public const string StatsPath = Prefix + "/stats";
    public const int DefaultWindowSeconds = 60;

    public static IEndpointRouteBuilder MapGatewayApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix).WithTags("Gateway");

        api.MapGet("/routing", GetRouting)
            .WithName("GetAppliedRouting")
            .WithSummary("The routing in force: weight, versions and destinations of the gateway's agent, and where they came from.");

        api.MapGet("/stats", GetStats)
            .WithName("GetTrafficStats")
            .WithSummary("Per-track requests, errors by status class, latency percentiles and latency bucket counts (mergeable across replicas) over the last `window` seconds (1–600, default 60).");

        // Anything else under /gateway belongs to the gateway, not to the agent: answer here instead of proxying it.
        api.Map("/{**rest}", NotFound)
            .WithName("GatewayNotFound")
            .WithSummary("Unknown gateway endpoint.")
            .ExcludeFromDescription();

        return app;
    }

    public static Ok<AppliedRouting> GetRouting(IRoutingState routing, IRoutingStreamStatus stream, IOptions<GatewayOptions> options)
    {
        var s = routing.Current;
        return TypedResults.Ok(new AppliedRouting(
            s.Agent,
            s.Revision,
            s.Source == RoutingSource.RolloutApi ? AppliedRouting.FromRolloutApi : AppliedRouting.FromConfiguration,
            s.Weight,
            s.Stable,
            s.Canary,
            s.AppliedAt,
            stream.Connected)
        {
            GatewayId = options.Value.Id,
            LeaseExpired = stream.LeaseExpired,
            Fallback = s.StableOnlyFallback ? FallbackNames.StableOnly : null,
        });
    }

    public static Results<Ok<TrafficSummary>, ValidationProblem> GetStats(ITrafficStats stats, IRoutingState routing, ServedByCheck servedBy, int? window)
    {
        var seconds = window ?? DefaultWindowSeconds;
        if (seconds is < 1 or > ITrafficStats.MaxWindowSeconds)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["window"] = [$"The window is 1 to {ITrafficStats.MaxWindowSeconds} seconds."],
            });
        }

        return TypedResults.Ok(stats.Summarize(seconds, routing.Current) with { IdentityMismatches = servedBy.Summarize() });
    }

    public static ProblemHttpResult NotFound(HttpContext context) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown gateway endpoint.",
            detail: $"'{context.Request.Path}' is reserved for the gateway; it serves {RoutingPath} and {StatsPath}.");
}

/// <summary><c>GET /gateway/routing</c>: the routing the gateway applies right now.</summary>
public sealed record AppliedRouting(
    [property: JsonPropertyName("agent")] string Agent,
    [property: JsonPropertyName("revision")] long Revision,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("weight")] int Weight,
    [property: JsonPropertyName("stable")] TrackRoute Stable,
    [property: JsonPropertyName("canary")] TrackRoute Canary,
    [property: JsonPropertyName("appliedAt")] DateTimeOffset AppliedAt,
    [property: JsonPropertyName("streamConnected")] bool StreamConnected)
{
    public const string FromConfiguration = "configuration";
    public const string FromRolloutApi = "rollout-api";

    /// <summary>This gateway's id in RolloutApi's gateway list.</summary>
    [JsonPropertyName("gatewayId")]
    public string? GatewayId { get; init; }

    /// <summary>Nothing heard from RolloutApi for longer than <c>Gateway:Lease</c>.</summary>
    [JsonPropertyName("leaseExpired")]
    public bool LeaseExpired { get; init; }

    /// <summary><c>stable-only</c> while the lease fallback overrides the table's weight; null otherwise.</summary>
    [JsonPropertyName("fallback")]
    public string? Fallback { get; init; }
}
