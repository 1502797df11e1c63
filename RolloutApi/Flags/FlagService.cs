using System.Text.Json;
using RolloutApi.Flags.Validation;
using RolloutApi.Http;
using RolloutApi.Model;
using RolloutApi.Rollouts;
using RolloutApi.Storage;

namespace RolloutApi.Flags;

/// <summary>The outcome of a flag mutation: the value, whether anything changed, and the agent's flag version afterwards (the ETag).</summary>
public sealed record FlagChange<T>(T Value, bool Changed, long Version);

/// <summary>
/// Operators' flag changes: a revision's flag set (once), the agent-level definitions, and kill switches. Each change is
/// one transaction with one audit entry; the snapshots it alters are recomputed inside it (by
/// <see cref="FlagTransitionParticipant"/>) and published to the streams before the call returns. A repeat of what is
/// already in force changes nothing, writes no audit entry and takes no version.
/// </summary>
public sealed partial class FlagService(
    SqliteDatabase database, AgentStore agents, FlagSetStore store, TransitionRecorder recorder, ILogger<FlagService> logger)
{
    /// <summary>Writes a revision's flag set if it has none; the same set again is a no-op, a different one a conflict.</summary>
    public async Task<Outcome<FlagChange<RevisionFlagSet>>> SetRevisionFlagsAsync(
        string agent, int revision, JsonElement featureManagement, string? reason, Precondition precondition, string actor,
        CancellationToken cancellationToken)
    {
        var parsed = await ParseAsync(featureManagement, reason, cancellationToken);
        if (parsed.Error is { } invalid)
        {
            return invalid;
        }

        var document = parsed.Value!;
        await using var work = await database.BeginAsync(cancellationToken);
        var (agentRecord, version, error) = await OpenAsync(work, agent, precondition, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        if (await agents.GetRevisionAsync(work, agent, revision, cancellationToken) is null)
        {
            return FlagErrors.RevisionNotFound(agent, revision);
        }

        if (await store.GetRevisionSetAsync(work, agent, revision, cancellationToken) is { } existing)
        {
            return existing.Document.SameAs(document)
                ? new FlagChange<RevisionFlagSet>(existing, Changed: false, version)
                : OperationError.Conflict(
                    $"Revision {revision} already ships a different flag set (set by {existing.CreatedBy}); revisions are immutable: " +
                    "create a new revision, or change the agent-level definitions.");
        }

        var set = new RevisionFlagSet(agent, revision, document, work.Now, actor);
        await store.InsertRevisionSetAsync(work, set, cancellationToken);
        var what = $"Revision {revision} ships {Describe(document)}";
        var after = await RecordAsync(work, agentRecord!, FlagActions.RevisionFlagsSet, actor, reason, what, revision, cancellationToken);
        await work.CommitAsync(cancellationToken);
        Log.RevisionFlagsSet(logger, agent, revision, document.Flags.Count, actor);
        return new FlagChange<RevisionFlagSet>(set, Changed: true, after);
    }

    /// <summary>Replaces the agent-level definitions (an empty document removes them).</summary>
    public async Task<Outcome<FlagChange<FlagDocument>>> SetDefinitionsAsync(
        string agent, JsonElement featureManagement, string? reason, Precondition precondition, string actor, CancellationToken cancellationToken)
    {
        var parsed = await ParseAsync(featureManagement, reason, cancellationToken);
        if (parsed.Error is { } invalid)
        {
            return invalid;
        }

        var document = parsed.Value!;
        await using var work = await database.BeginAsync(cancellationToken);
        var (agentRecord, version, error) = await OpenAsync(work, agent, precondition, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        await store.EnsureAgentAsync(work, agent, cancellationToken);
        var current = (await store.ReadAgentAsync(work, agent, cancellationToken))!.Definitions;
        if (current.SameAs(document))
        {
            return new FlagChange<FlagDocument>(current, Changed: false, version);
        }

        await store.SetDefinitionsAsync(work, agent, document, actor, cancellationToken);
        var what = $"Agent-level definitions replaced: {Describe(document)}";
        var after = await RecordAsync(work, agentRecord!, FlagActions.DefinitionsSet, actor, reason, what, revision: null, cancellationToken);
        await work.CommitAsync(cancellationToken);
        Log.DefinitionsSet(logger, agent, document.Flags.Count, actor);
        return new FlagChange<FlagDocument>(document, Changed: true, after);
    }

    /// <summary>
    /// Turns <paramref name="flag"/> (null: every flag) off in <paramref name="scope"/>. Returns once the change is committed
    /// and the affected snapshots are published.
    /// </summary>
    public Task<Outcome<FlagChange<bool>>> KillAsync(
        string agent, string? flag, FlagScope scope, string? reason, Precondition precondition, string actor, CancellationToken cancellationToken) =>
        SwitchAsync(agent, flag, scope, kill: true, reason, precondition, actor, cancellationToken);

    /// <summary>Turns a kill switch off again (the one with exactly this flag and scope); no switch is a no-op.</summary>
    public Task<Outcome<FlagChange<bool>>> RestoreAsync(
        string agent, string? flag, FlagScope scope, string? reason, Precondition precondition, string actor, CancellationToken cancellationToken) =>
        SwitchAsync(agent, flag, scope, kill: false, reason, precondition, actor, cancellationToken);

    private async Task<Outcome<FlagChange<bool>>> SwitchAsync(
        string agent, string? flag, FlagScope scope, bool kill, string? reason, Precondition precondition, string actor,
        CancellationToken cancellationToken)
    {
        var scopeErrors = FlagScope.Validate(scope.Track, scope.Revision);
        if (scopeErrors.Count > 0)
        {
            return new OperationError(ErrorKind.Invalid, "Invalid scope", "The kill switch's scope is not valid; see errors.", scopeErrors);
        }

        if (AuditReasons.Check(reason) is { } reasonError)
        {
            return reasonError;
        }

        await using var work = await database.BeginAsync(cancellationToken);
        var (agentRecord, version, error) = await OpenAsync(work, agent, precondition, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        // A name that cannot be a flag is simply not found; '*' in a path is not the every-flag switch.
        if (flag is not null && (!FlagDocumentValidator.IsValidId(flag) || !await store.IsKnownFlagAsync(work, agent, flag, cancellationToken)))
        {
            return FlagErrors.FlagNotFound(agent, flag);
        }

        if (kill && scope.Revision is { } revision && await agents.GetRevisionAsync(work, agent, revision, cancellationToken) is null)
        {
            return FlagErrors.RevisionNotFound(agent, revision);
        }

        var name = flag ?? FlagKill.EveryFlag;
        var what = $"{(flag is null ? "every flag" : $"flag '{flag}'")} {scope.Describe()}";
        var killed = (await store.ListKillsAsync(work, agent, cancellationToken))
            .Any(k => string.Equals(k.Flag, name, StringComparison.OrdinalIgnoreCase) && k.Scope == scope);
        if (killed == kill)
        {
            return new FlagChange<bool>(kill, Changed: false, version);
        }

        if (kill)
        {
            await store.InsertKillAsync(work, agent, new FlagKill(name, scope, work.Now, actor, reason ?? ""), cancellationToken);
        }
        else
        {
            await store.DeleteKillAsync(work, agent, name, scope, cancellationToken);
        }

        var after = await RecordAsync(work, agentRecord!, kill ? FlagActions.FlagKilled : FlagActions.FlagRestored, actor, reason,
            $"{(kill ? "Killed" : "Restored")} {what}", scope.Revision, cancellationToken);
        await work.CommitAsync(cancellationToken);
        if (kill)
        {
            Log.Killed(logger, agent, name, scope.Describe(), actor);
        }
        else
        {
            Log.Restored(logger, agent, name, scope.Describe(), actor);
        }

        return new FlagChange<bool>(kill, Changed: true, after);
    }

    /// <summary>Reads the agent and checks If-Match against its flag version, inside the write transaction.</summary>
    private async Task<(AgentRecord? Agent, long Version, OperationError? Error)> OpenAsync(
        UnitOfWork work, string agent, Precondition precondition, CancellationToken cancellationToken)
    {
        var agentRecord = await agents.GetAgentAsync(work, agent, cancellationToken);
        if (agentRecord is null)
        {
            return (null, 0, OperationError.AgentNotFound(agent));
        }

        var version = (await store.ReadAgentAsync(work, agent, cancellationToken))?.Version ?? 0;
        return precondition.IsSatisfiedBy(version)
            ? (agentRecord, version, null)
            : (agentRecord, version, OperationError.Stale("flag configuration", version));
    }

    /// <summary>Writes the audit entry (the participant recomputes and bumps inside it); returns the agent's new flag version.</summary>
    private async Task<long> RecordAsync(
        UnitOfWork work, AgentRecord agent, string action, string actor, string? reason, string what, int? revision, CancellationToken cancellationToken)
    {
        // Flags do not move the weight: from and to both carry the current one, as other non-rollout entries do.
        var weight = new TransitionPoint(null, null, agent.Weight);
        await recorder.RecordAsync(work, new Transition(
            agent.Name, action, actor, reason is null ? $"{what} by {actor}." : $"{what}: {reason}", null, weight, weight, revision),
            cancellationToken);
        return (await store.ReadAgentAsync(work, agent.Name, cancellationToken))!.Version;
    }

    private static async Task<Outcome<FlagDocument>> ParseAsync(JsonElement featureManagement, string? reason, CancellationToken cancellationToken)
    {
        if (AuditReasons.Check(reason) is { } reasonError)
        {
            return reasonError;
        }

        var (document, errors) = await FlagDocumentValidator.ValidateAsync(featureManagement, cancellationToken);
        if (document is null)
        {
            return new OperationError(ErrorKind.Invalid, "Invalid flag set", "The feature_management document is not valid; see errors.", errors);
        }

        return document;
    }

    private static string Describe(FlagDocument document) => document.Flags.Count switch
    {
        0 => "no flags",
        <= 5 => $"{document.Flags.Count} flag(s): {string.Join(", ", document.Flags.Select(f => f.Id))}",
        var count => $"{count} flags",
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 3200, Level = LogLevel.Warning, Message = "Kill switch on for {Agent}: {Flag} {Scope}, by {Actor}")]
        public static partial void Killed(ILogger logger, string agent, string flag, string scope, string actor);

        [LoggerMessage(EventId = 3201, Level = LogLevel.Information, Message = "Kill switch off for {Agent}: {Flag} {Scope}, by {Actor}")]
        public static partial void Restored(ILogger logger, string agent, string flag, string scope, string actor);

        [LoggerMessage(EventId = 3202, Level = LogLevel.Information, Message = "Revision {Revision} of {Agent} ships {Count} flag(s), set by {Actor}")]
        public static partial void RevisionFlagsSet(ILogger logger, string agent, int revision, int count, string actor);

        [LoggerMessage(EventId = 3203, Level = LogLevel.Information, Message = "Agent-level flag definitions of {Agent} replaced ({Count} flag(s)) by {Actor}")]
        public static partial void DefinitionsSet(ILogger logger, string agent, int count, string actor);
    }
}
