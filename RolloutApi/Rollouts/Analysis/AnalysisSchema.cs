
using RolloutApi.Rollouts.Analysis.Notifications;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts.Analysis;

/// <summary>
/// The analysis component's tables: templates (per agent, versioned), runs (one per step attempt or background episode, with
/// the template document they started with) and every measurement with each metric's reading and verdict.
/// </summary>
public sealed class AnalysisSchema : ISchemaContributor
{
    public const string ComponentName = "analysis";

    public string Component => ComponentName;

    public IReadOnlyList<SchemaMigration> Migrations { get; } =
    [
        new(1, "analysis templates, template runs and their measurements", """
            CREATE TABLE analysis_templates (
                agent      TEXT NOT NULL REFERENCES agents (name),
                name       TEXT NOT NULL,
                version    INTEGER NOT NULL CHECK (version > 0),
                document   TEXT NOT NULL,   -- the template as JSON
                created_at TEXT NOT NULL,
                created_by TEXT NOT NULL,
                PRIMARY KEY (agent, name, version)
            ) STRICT;

            CREATE TABLE analysis_template_runs (
                id               INTEGER PRIMARY KEY AUTOINCREMENT,
                rollout_id       INTEGER NOT NULL REFERENCES rollouts (id),
                kind             TEXT NOT NULL CHECK (kind IN ('Step', 'Background')),
                step_index       INTEGER NOT NULL,  -- -1 for a background run
                rollout_version  INTEGER NOT NULL,  -- the rollout's version when the run started: one run per step attempt
                template         TEXT NOT NULL,
                template_version INTEGER NOT NULL,  -- 0 = built in
                document         TEXT NOT NULL,     -- the template as the run uses it, whatever is saved later
                state            TEXT NOT NULL CHECK (state IN ('Running', 'Pass', 'Fail', 'Inconclusive', 'Cancelled')),
                summary          TEXT NOT NULL,
                started_at       TEXT NOT NULL,
                finished_at      TEXT NULL,
                acted_on         INTEGER NOT NULL DEFAULT 0,  -- 1 once the rollout transition following its verdict committed
                UNIQUE (rollout_id, kind, step_index, rollout_version)
            ) STRICT;
            CREATE INDEX analysis_template_runs_by_rollout ON analysis_template_runs (rollout_id, id);

            CREATE TABLE analysis_measurements (
                run_id  INTEGER NOT NULL REFERENCES analysis_template_runs (id),
                number  INTEGER NOT NULL CHECK (number > 0),  -- 1, 2, ...: a measurement is written once, never counted twice
                at      TEXT NOT NULL,
                since   TEXT NOT NULL,      -- when the weight in force took effect
                weight  INTEGER NOT NULL,
                verdict TEXT NOT NULL CHECK (verdict IN ('Pass', 'Fail', 'Inconclusive')),
                summary TEXT NOT NULL,
                metrics TEXT NOT NULL,      -- JSON: each metric's sample and verdict
                PRIMARY KEY (run_id, number)
            ) STRICT;
            """),
        new(2, "notification outbox", """
            -- Written in the transaction of the change it reports; delivered after the commit, retried with backoff.
            CREATE TABLE notification_outbox (
                id              INTEGER PRIMARY KEY AUTOINCREMENT,
                webhook         TEXT NOT NULL,
                event_id        TEXT NOT NULL,   -- the CloudEvent id: receivers dedupe on it (delivery is at least once)
                type            TEXT NOT NULL,
                body            TEXT NOT NULL,   -- the CloudEvent, exactly as signed and sent
                created_at      TEXT NOT NULL,
                attempts        INTEGER NOT NULL,
                next_attempt_at TEXT NOT NULL,
                state           TEXT NOT NULL CHECK (state IN ('Pending', 'Delivered', 'Dead')),
                delivered_at    TEXT NULL,
                last_error      TEXT NULL,
                UNIQUE (webhook, event_id)
            ) STRICT;
            CREATE INDEX notification_outbox_due ON notification_outbox (state, next_attempt_at);
            """),
    ];
}
