

using RolloutApi.Model;

namespace RolloutApi.Storage;

/// <summary>The tables RolloutApi itself owns: routing state, agents, revisions, rollouts, analysis runs and the audit log.</summary>
public sealed class CoreSchema : ISchemaContributor
{
    public const string ComponentName = "core";

    public string Component => ComponentName;

    public IReadOnlyList<SchemaMigration> Migrations { get; } =
    [
        new(1, "routing table, agents, revisions, rollouts, analysis runs, audit log", $$"""
            -- One row: the routing table's global revision. It only grows; every agent route records the value it last changed at.
            CREATE TABLE routing_state (
                id       INTEGER PRIMARY KEY CHECK (id = 1),
                revision INTEGER NOT NULL CHECK (revision >= 0)
            ) STRICT;
            INSERT INTO routing_state (id, revision) VALUES (1, 0);

            CREATE TABLE agents (
                name                TEXT PRIMARY KEY,
                stable_destination  TEXT NOT NULL,
                canary_destination  TEXT NOT NULL,
                idle_canary_version TEXT NOT NULL,   -- the canary track's label when no rollout runs (from configuration)
                image               TEXT NULL,       -- image repository; revisions carry the tag
                stable_revision     INTEGER NOT NULL,
                last_revision       INTEGER NOT NULL, -- numbers are never reused, even after history pruning
                weight              INTEGER NOT NULL CHECK (weight BETWEEN 0 AND 10000),
                route_revision      INTEGER NOT NULL,
                created_at          TEXT NOT NULL
            ) STRICT;

            CREATE TABLE revisions (
                agent      TEXT NOT NULL REFERENCES agents (name),
                number     INTEGER NOT NULL CHECK (number > 0),
                version    TEXT NOT NULL,
                image_tag  TEXT NOT NULL CHECK (image_tag <> '' AND lower(image_tag) <> 'latest'),
                created_at TEXT NOT NULL,
                created_by TEXT NOT NULL,
                PRIMARY KEY (agent, number)
            ) STRICT;

            CREATE TABLE rollouts (
                id              INTEGER PRIMARY KEY AUTOINCREMENT,
                agent           TEXT NOT NULL REFERENCES agents (name),
                from_revision   INTEGER NOT NULL,
                to_revision     INTEGER NOT NULL,
                steps           TEXT NOT NULL,     -- JSON array, fixed when the rollout starts
                state           TEXT NOT NULL CHECK (state IN ('Progressing', 'Paused', 'Analyzing', 'Promoted', 'Aborted', 'RolledBack')),
                step_index      INTEGER NOT NULL,  -- the current step; equals the step count once every step is done
                step_started_at TEXT NOT NULL,     -- a pause step's timer runs from here, across restarts
                hold            TEXT NULL,         -- a hold besides a pause step: 'Operator' or 'Inconclusive'
                version         INTEGER NOT NULL,  -- the ETag: +1 on every transition
                message         TEXT NOT NULL,
                created_at      TEXT NOT NULL,
                created_by      TEXT NOT NULL,
                updated_at      TEXT NOT NULL,
                completed_at    TEXT NULL
            ) STRICT;
            -- One rollout per agent at a time, enforced by the database as well as by the engine.
            CREATE UNIQUE INDEX rollouts_one_active ON rollouts (agent) WHERE state IN ({{RolloutStates.ActiveSqlList}});
            CREATE INDEX rollouts_by_agent ON rollouts (agent, id);

            CREATE TABLE analysis_runs (
                id         INTEGER PRIMARY KEY AUTOINCREMENT,
                rollout_id INTEGER NOT NULL REFERENCES rollouts (id),
                step_index INTEGER NOT NULL,
                provider   TEXT NOT NULL,
                verdict    TEXT NOT NULL,
                summary    TEXT NOT NULL,
                at         TEXT NOT NULL
            ) STRICT;
            CREATE INDEX analysis_runs_by_rollout ON analysis_runs (rollout_id, id);

            CREATE TABLE audit (
                id          INTEGER PRIMARY KEY AUTOINCREMENT,
                agent       TEXT NOT NULL,
                at          TEXT NOT NULL,
                actor       TEXT NOT NULL,
                action      TEXT NOT NULL,
                reason      TEXT NOT NULL,
                rollout_id  INTEGER NULL,
                from_state  TEXT NULL,
                from_step   INTEGER NULL,
                from_weight INTEGER NULL,
                to_state    TEXT NULL,
                to_step     INTEGER NULL,
                to_weight   INTEGER NOT NULL
            ) STRICT;
            CREATE INDEX audit_by_agent ON audit (agent, id);
            CREATE INDEX audit_by_rollout ON audit (rollout_id, id) WHERE rollout_id IS NOT NULL;
            """),
        new(2, "forced-canary allowances after an abort", """
            -- After an abort the canary refuses forced traffic (X-Agent-Track: canary) unless an operator allowed it for that
            -- aborted rollout; a retry or a new rollout opens it again by itself (the newest rollout is no longer aborted).
            CREATE TABLE forced_canary_allowances (
                agent      TEXT NOT NULL REFERENCES agents (name),
                rollout_id INTEGER NOT NULL REFERENCES rollouts (id),
                allowed_at TEXT NOT NULL,
                allowed_by TEXT NOT NULL,
                PRIMARY KEY (agent, rollout_id)
            ) STRICT;
            """),
        new(3, "a revision's local build", """
            -- A revision may name a local stored build (the SHA-256 of its content, AppHost/Builds); null is a version label
            -- and a flag set on whatever build the tracks run. Immutable like the rest of the row.
            ALTER TABLE revisions ADD COLUMN build TEXT NULL CHECK (build IS NULL OR (length(build) = 64 AND build NOT GLOB '*[^0-9a-f]*'));
            """),
    ];
}
