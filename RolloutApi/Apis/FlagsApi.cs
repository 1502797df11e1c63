using System.Security.Claims;
using AgentAspire.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using RolloutApi.Auth;
using RolloutApi.Flags;
using RolloutApi.Hosting;
using RolloutApi.Http;

namespace RolloutApi.Apis;

/// <summary>
/// Remote feature flags: the snapshot and stream agents read (viewer), the flag sets and kill switches operators change.
/// Every mutation takes an optional <c>If-Match</c> with the agent's flag version (the ETag of its definitions, kill
/// switches and mutation answers).
/// </summary>
public static class FlagsApi
{
    private const string DefinitionsPath = $"{FlagApiPaths.Snapshot}/definitions";
    private const string KillsPath = $"{FlagApiPaths.Snapshot}/kills";
    private const string KillFlagPath = $"{FlagApiPaths.Snapshot}/{{flag}}/kill";
    private const string KillAllPath = $"{FlagApiPaths.Snapshot}/kill";
    private const string RevisionFlagsPath = "/api/agents/{agent}/revisions/{revision:int}/flags";

    private const string ScopeDescription =
        "Scope: body {\"track\": \"canary\"} or {\"revision\": 3} (or the same as query parameters); neither means everywhere. " +
        "Returns after the commit; stream subscribers have the new snapshots before the response is sent.";

    public static IEndpointRouteBuilder MapFlagsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("").WithTags("Flags").RequireAuthorization(AuthPolicies.Viewer);

        api.MapGet(FlagApiPaths.Snapshot, GetFlagSnapshot)
            .WithName(nameof(GetFlagSnapshot))
            .WithSummary("The flag snapshot a track serves (feature_management schema, kill switches applied). ETag = its version.")
            .WithDescription("track=stable|canary. The version only grows per agent; If-None-Match with the current ETag answers 304.")
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);

        api.MapGet(FlagApiPaths.Stream, StreamFlagSnapshots)
            .WithName(nameof(StreamFlagSnapshots))
            .WithSummary("Server-sent events: the track's current flag snapshot at once, then every change (event 'flags', id = version).")
            .WithDescription("Idle streams carry a ': keep-alive' comment at the configured heartbeat interval.")
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);

        api.MapGet(DefinitionsPath, GetFlagDefinitions)
            .WithName(nameof(GetFlagDefinitions))
            .WithSummary("The agent-level flag definitions; they override a revision's flag of the same id on both tracks. ETag = the agent's flag version.")
            .ProducesProblems(StatusCodes.Status404NotFound);

        api.MapPut(DefinitionsPath, SetFlagDefinitions)
            .WithName(nameof(SetFlagDefinitions))
            .WithSummary("Replaces the agent-level flag definitions: {\"feature_management\": {\"feature_flags\": [...]}, \"reason\": \"...\"}.")
            .WithDescription("Validated with Microsoft.FeatureManagement's parser; filters must be ones agents have. Audited.")
            .RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status412PreconditionFailed);

        api.MapGet(RevisionFlagsPath, GetRevisionFlags)
            .WithName(nameof(GetRevisionFlags))
            .WithSummary("The flag set a revision ships.")
            .ProducesProblems(StatusCodes.Status404NotFound);

        api.MapPut(RevisionFlagsPath, SetRevisionFlags)
            .WithName(nameof(SetRevisionFlags))
            .WithSummary("Sets the flag set a revision ships, once: {\"feature_management\": {\"feature_flags\": [...]}, \"reason\": \"...\"}.")
            .WithDescription("201 the first time, 200 for the same set again, 409 for a different one (revisions are immutable). " +
                "A running revision's tracks switch to it at once. Audited.")
            .RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict,
                StatusCodes.Status412PreconditionFailed);

        api.MapGet(KillsPath, ListFlagKills)
            .WithName(nameof(ListFlagKills))
            .WithSummary("The agent's kill switches that are on. ETag = the agent's flag version.")
            .ProducesProblems(StatusCodes.Status404NotFound);

        api.MapPost(KillFlagPath, KillFlag)
            .WithName(nameof(KillFlag))
            .WithSummary("Kill switch: turns one flag off everywhere, on a track, or for a revision, until the switch is deleted.")
            .WithDescription(ScopeDescription)
            .RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status412PreconditionFailed);

        api.MapDelete(KillFlagPath, RestoreFlag)
            .WithName(nameof(RestoreFlag))
            .WithSummary("Turns a flag's kill switch off again (the switch with exactly this scope).")
            .WithDescription(ScopeDescription)
            .RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status412PreconditionFailed);

        api.MapPost(KillAllPath, KillAllFlags)
            .WithName(nameof(KillAllFlags))
            .WithSummary("Kill switch for every flag (the dashboard's one-click switch): everywhere, on a track, or for a revision.")
            .WithDescription(ScopeDescription)
            .RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status412PreconditionFailed);

        api.MapDelete(KillAllPath, RestoreAllFlags)
            .WithName(nameof(RestoreAllFlags))
            .WithSummary("Turns the every-flag kill switch of a scope off again (single-flag switches stay).")
            .WithDescription(ScopeDescription)
            .RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status412PreconditionFailed);

        return app;
    }

    public static async Task<Results<Ok<FlagSnapshot>, StatusCodeHttpResult, ProblemHttpResult>> GetFlagSnapshot(
        string agent, string? track, FlagQueries queries, HttpRequest request, HttpResponse response, CancellationToken cancellationToken)
    {
        if (track is null || !Tracks.IsKnown(track))
        {
            return ApiResults.Problem(FlagErrors.InvalidTrack(track));
        }

        if (await queries.GetSnapshotAsync(agent, track, cancellationToken) is not { } snapshot)
        {
            return ApiResults.Problem(OperationError.AgentNotFound(agent));
        }

        ApiResults.SetETag(response, snapshot.Version);
        return IsCurrent(request, snapshot.Version) ? TypedResults.StatusCode(StatusCodes.Status304NotModified) : TypedResults.Ok(snapshot);
    }

    public static async Task<Results<EventStreamResult<FlagSnapshot>, ProblemHttpResult>> StreamFlagSnapshots(
        string agent, string? track, FlagQueries queries, FlagSnapshotBroadcaster broadcaster, IOptions<RolloutApiOptions> options,
        TimeProvider time, CancellationToken cancellationToken)
    {
        if (track is null || !Tracks.IsKnown(track))
        {
            return ApiResults.Problem(FlagErrors.InvalidTrack(track));
        }

        if (await queries.GetSnapshotAsync(agent, track, cancellationToken) is not { } snapshot)
        {
            return ApiResults.Problem(OperationError.AgentNotFound(agent));
        }

        return new EventStreamResult<FlagSnapshot>(broadcaster.SubscribeAsync(snapshot, cancellationToken), FlagApiPaths.EventName,
            s => s.Version, options.Value.StreamHeartbeatInterval, time);
    }

    public static async Task<Results<Ok<FlagDefinitionsView>, ProblemHttpResult>> GetFlagDefinitions(
        string agent, FlagQueries queries, HttpResponse response, CancellationToken cancellationToken) =>
        (await queries.GetDefinitionsAsync(agent, cancellationToken))
            .ToResult(OperationError.AgentNotFound(agent), response, view => view.Version, view => TypedResults.Ok(view));

    public static async Task<Results<Ok<FlagDefinitionsView>, ProblemHttpResult>> SetFlagDefinitions(
        string agent, FlagSetRequest request, Precondition ifMatch, [AsParameters] FlagsApiServices services)
    {
        var outcome = await services.Flags.SetDefinitionsAsync(
            agent, request.FeatureManagement, request.Reason, ifMatch, Actor.Of(services.User), services.CancellationToken);
        return await outcome
            .ThenAsync(async _ => (await services.Queries.GetDefinitionsAsync(agent, services.CancellationToken))!)
            .ToResultAsync(services.Response, view => view.Version, view => TypedResults.Ok(view));
    }

    public static async Task<Results<Ok<RevisionFlagsView>, ProblemHttpResult>> GetRevisionFlags(
        string agent, int revision, FlagQueries queries, CancellationToken cancellationToken)
    {
        var outcome = await queries.GetRevisionFlagsAsync(agent, revision, cancellationToken);
        return outcome.Error is { } error ? ApiResults.Problem(error) : TypedResults.Ok(RevisionFlagsView.From(outcome.Value!));
    }

    public static async Task<Results<Created<RevisionFlagsView>, Ok<RevisionFlagsView>, ProblemHttpResult>> SetRevisionFlags(
        string agent, int revision, FlagSetRequest request, Precondition ifMatch, [AsParameters] FlagsApiServices services)
    {
        var outcome = await services.Flags.SetRevisionFlagsAsync(
            agent, revision, request.FeatureManagement, request.Reason, ifMatch, Actor.Of(services.User), services.CancellationToken);
        if (outcome.Error is { } error)
        {
            return ApiResults.Problem(error);
        }

        // Two success results (created, or unchanged), so not ApiResults.ToResult: it answers one.
        var change = outcome.Value!;
        ApiResults.SetETag(services.Response, change.Version);
        var view = RevisionFlagsView.From(change.Value);
        return change.Changed
            ? TypedResults.Created($"/api/agents/{Uri.EscapeDataString(agent)}/revisions/{revision}/flags", view)
            : TypedResults.Ok(view);
    }

    public static async Task<Results<Ok<FlagKillsView>, ProblemHttpResult>> ListFlagKills(
        string agent, FlagQueries queries, HttpResponse response, CancellationToken cancellationToken) =>
        (await queries.GetKillsAsync(agent, cancellationToken))
            .ToResult(OperationError.AgentNotFound(agent), response, view => view.Version, view => TypedResults.Ok(view));

    public static Task<Results<Ok<FlagKillResult>, ProblemHttpResult>> KillFlag(
        string agent, string flag, FlagKillRequest? request, [FromQuery] string? track, [FromQuery] int? revision, Precondition ifMatch,
        [AsParameters] FlagsApiServices services) =>
        SwitchAsync(kill: true, agent, flag, request, track, revision, ifMatch, services);

    public static Task<Results<Ok<FlagKillResult>, ProblemHttpResult>> RestoreFlag(
        string agent, string flag, [FromBody] FlagKillRequest? request, [FromQuery] string? track, [FromQuery] int? revision, Precondition ifMatch,
        [AsParameters] FlagsApiServices services) =>
        SwitchAsync(kill: false, agent, flag, request, track, revision, ifMatch, services);

    public static Task<Results<Ok<FlagKillResult>, ProblemHttpResult>> KillAllFlags(
        string agent, FlagKillRequest? request, [FromQuery] string? track, [FromQuery] int? revision, Precondition ifMatch,
        [AsParameters] FlagsApiServices services) =>
        SwitchAsync(kill: true, agent, flag: null, request, track, revision, ifMatch, services);

    public static Task<Results<Ok<FlagKillResult>, ProblemHttpResult>> RestoreAllFlags(
        string agent, [FromBody] FlagKillRequest? request, [FromQuery] string? track, [FromQuery] int? revision, Precondition ifMatch,
        [AsParameters] FlagsApiServices services) =>
        SwitchAsync(kill: false, agent, flag: null, request, track, revision, ifMatch, services);

    private static async Task<Results<Ok<FlagKillResult>, ProblemHttpResult>> SwitchAsync(
        bool kill, string agent, string? flag, FlagKillRequest? request, string? track, int? revision, Precondition ifMatch,
        FlagsApiServices services)
    {
        var inBody = request is { Track: not null } or { Revision: not null };
        if (inBody && (track is not null || revision is not null))
        {
            return ApiResults.Problem(OperationError.Invalid("scope", "Give the scope in the body or in the query, not in both."));
        }

        var (flags, cancellationToken) = (services.Flags, services.CancellationToken);
        var scope = inBody ? new FlagScope(request!.Track, request.Revision) : new FlagScope(track, revision);
        var outcome = kill
            ? await flags.KillAsync(agent, flag, scope, request?.Reason, ifMatch, Actor.Of(services.User), cancellationToken)
            : await flags.RestoreAsync(agent, flag, scope, request?.Reason, ifMatch, Actor.Of(services.User), cancellationToken);
        return await outcome
            .ThenAsync(async change =>
            {
                // Read after the commit: the broadcaster already holds (and the streams were handed) what the change produced.
                List<FlagSnapshot> snapshots = [];
                foreach (var name in (string[])[Tracks.Stable, Tracks.Canary])
                {
                    snapshots.Add((await services.Queries.GetSnapshotAsync(agent, name, cancellationToken))!);
                }

                return new FlagKillResult(
                    agent, flag ?? FlagKill.EveryFlag, scope.Track, scope.Revision, kill, change.Changed, change.Version, snapshots);
            })
            .ToResultAsync(services.Response, result => result.Version, result => TypedResults.Ok(result));
    }

    /// <summary>If-None-Match names the current version (or *): the caller's copy is current.</summary>
    private static bool IsCurrent(HttpRequest request, long version)
    {
        var header = request.Headers.IfNoneMatch;
        if (header.Count == 0 || !EntityTagHeaderValue.TryParseList(header, out var tags))
        {
            return false;
        }

        var current = new EntityTagHeaderValue(Precondition.ETagFor(version));
        return tags.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(current, useStrongComparison: false));
    }
}

/// <summary>What the flag-changing endpoints need besides their route, body, query and If-Match, bound as one parameter.</summary>
public sealed record FlagsApiServices(
    FlagService Flags, FlagQueries Queries, ClaimsPrincipal User, HttpResponse Response, CancellationToken CancellationToken);
