using Microsoft.Extensions.Options;
using RolloutApi.Drivers;
using RolloutApi.Hosting;
using RolloutApi.Http;
using RolloutApi.Model;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts;

/// <summary>Creates immutable revisions and keeps each agent's history within its limit.</summary>
public sealed class RevisionService(
    SqliteDatabase database, AgentStore agents, TransitionRecorder recorder, SelectedTrackDriver driver, IOptions<RolloutApiOptions> options)
{
    /// <summary>Revisions newest first, with the collection's ETag (the agent's last revision number).</summary>
    public async Task<(IReadOnlyList<RevisionRecord> Revisions, int LastRevision)?> ListAsync(string agent, CancellationToken cancellationToken)
    {
        await using var session = await database.ReadAsync(cancellationToken);
        var record = await agents.GetAgentAsync(session, agent, cancellationToken);
        return record is null ? null : (await agents.ListRevisionsAsync(session, agent, cancellationToken), record.LastRevision);
    }

    public async Task<Outcome<RevisionRecord>> GetAsync(string agent, int number, CancellationToken cancellationToken)
    {
        await using var session = await database.ReadAsync(cancellationToken);
        if (await agents.GetAgentAsync(session, agent, cancellationToken) is null)
        {
            return OperationError.AgentNotFound(agent);
        }

        var revision = await agents.GetRevisionAsync(session, agent, number, cancellationToken);
        return revision is null
            ? new OperationError(ErrorKind.NotFound, "Revision not found", $"Agent '{agent}' has no revision {number} (never created, or pruned from history).")
            : revision;
    }

    /// <summary>
    /// Creates the next revision. The image tag defaults to the version label; an empty or <c>latest</c> tag is refused, and so
    /// is a copy of an existing revision (same version and tag). <paramref name="precondition"/> is checked against the
    /// collection's ETag.
    /// </summary>
    public async Task<Outcome<RevisionRecord>> CreateAsync(
        string agent, string version, string? imageTag, string? reason, Precondition precondition, string actor, CancellationToken cancellationToken,
        string? build = null)
    {
        if (!RevisionRules.IsValidVersion(version))
        {
            return OperationError.Invalid("version", $"version must be {RevisionRules.VersionRule}.");
        }

        var tag = imageTag ?? version;
        if (!RevisionRules.IsValidImageTag(tag, out var tagProblem))
        {
            return OperationError.Invalid("imageTag", tagProblem);
        }

        if (AuditReasons.Check(reason) is { } reasonError)
        {
            return reasonError;
        }

        if (build is not null)
        {
            if (!RevisionRules.IsValidBuild(build))
            {
                return OperationError.Invalid("build", $"build must be {RevisionRules.BuildRule}.");
            }

            // Asked before the transaction (the driver may call the AppHost): a build that is not there is refused now,
            // not discovered when a rollout's canary fails to start.
            if (await driver.Driver.CheckRevisionAsync(new RevisionSpec(agent, 0, version, tag, build), cancellationToken) is { } problem)
            {
                return OperationError.Invalid("build", problem);
            }
        }

        await using var work = await database.BeginAsync(cancellationToken);
        var record = await agents.GetAgentAsync(work, agent, cancellationToken);
        if (record is null)
        {
            return OperationError.AgentNotFound(agent);
        }

        if (!precondition.IsSatisfiedBy(record.LastRevision))
        {
            return OperationError.Stale("revision list", record.LastRevision);
        }

        var existing = (await agents.ListRevisionsAsync(work, agent, cancellationToken))
            .FirstOrDefault(r => r.Version == version && r.ImageTag == tag && r.Build == build);
        if (existing is not null)
        {
            return OperationError.Conflict($"Revision {existing.Number} already is version {version} with image tag {tag}"
                + (build is null ? "" : $" and build {build}") + "; revisions are immutable, reuse it.");
        }

        var number = await agents.NextRevisionNumberAsync(work, agent, cancellationToken);
        var revision = new RevisionRecord(agent, number, version, tag, work.Now, actor) { Build = build };
        await agents.InsertRevisionAsync(work, revision, cancellationToken);
        await agents.PruneRevisionsAsync(work, agent, options.Value.RevisionHistoryLimit, cancellationToken);
        var weight = new TransitionPoint(null, null, record.Weight);
        await recorder.RecordAsync(work, new Transition(
            agent, TransitionActions.RevisionCreated, actor, reason ?? $"Revision {number}: version {version}, image tag {tag}" + (build is null ? "." : $", build {build}."), null,
            weight, weight, number), cancellationToken);
        await work.CommitAsync(cancellationToken);
        return revision;
    }
}
