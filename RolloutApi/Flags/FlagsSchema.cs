using RolloutApi.Storage;

namespace RolloutApi.Flags;

/// <summary>
/// The tables of the <c>flags</c> component: per agent its flag version and agent-level definitions, the flag set each
/// revision ships, the kill switches, and the effective snapshot each track serves.
/// </summary>
public sealed class FlagsSchema : ISchemaContributor
{
    public const string ComponentName = "flags";

    public string Component => ComponentName;

    public IReadOnlyList<SchemaMigration> Migrations { get; } =
    [
        new(1, "flag versions, agent definitions, revision flag sets, kill switches, track snapshots", """
            -- version only grows: every flag change of the agent (on any track) takes the next value; it is the ETag of the
            -- agent's flag configuration, and the snapshots a change alters take it as their version.
            CREATE TABLE flag_agents (
                agent       TEXT PRIMARY KEY REFERENCES agents (name),
                version     INTEGER NOT NULL CHECK (version >= 0),
                definitions TEXT NOT NULL,       -- agent-level flags (a feature_management object); they override a revision's by id
                updated_at  TEXT NULL,
                updated_by  TEXT NULL
            ) STRICT;

            -- Written once per revision (revisions are immutable); goes with the revision when history is pruned.
            CREATE TABLE flag_revision_sets (
                agent      TEXT NOT NULL,
                revision   INTEGER NOT NULL,
                document   TEXT NOT NULL,        -- a validated feature_management object
                created_at TEXT NOT NULL,
                created_by TEXT NOT NULL,
                PRIMARY KEY (agent, revision),
                FOREIGN KEY (agent, revision) REFERENCES revisions (agent, number) ON DELETE CASCADE
            ) STRICT;

            -- A kill switch turns one flag ('*' = every flag) off everywhere (no track, no revision), on one track, or
            -- wherever one revision's flag set is served.
            CREATE TABLE flag_kills (
                id         INTEGER PRIMARY KEY AUTOINCREMENT,
                agent      TEXT NOT NULL REFERENCES agents (name),
                flag       TEXT NOT NULL COLLATE NOCASE,
                track      TEXT NULL CHECK (track IN ('stable', 'canary')),
                revision   INTEGER NULL,
                created_at TEXT NOT NULL,
                created_by TEXT NOT NULL,
                reason     TEXT NOT NULL,
                CHECK (track IS NULL OR revision IS NULL),
                FOREIGN KEY (agent, revision) REFERENCES revisions (agent, number) ON DELETE CASCADE
            ) STRICT;
            CREATE UNIQUE INDEX flag_kills_one_per_scope ON flag_kills (agent, flag, coalesce(track, ''), coalesce(revision, 0));

            -- What each track serves, as served; recomputed inside every audited transition and bumped only when it differs.
            CREATE TABLE flag_snapshots (
                agent         TEXT NOT NULL REFERENCES agents (name),
                track         TEXT NOT NULL CHECK (track IN ('stable', 'canary')),
                version       INTEGER NOT NULL,
                revision      INTEGER NULL,
                version_label TEXT NULL,
                document      TEXT NOT NULL,
                audit_id      INTEGER NOT NULL,  -- the audited transition that last changed it (same transaction)
                updated_at    TEXT NOT NULL,
                PRIMARY KEY (agent, track)
            ) STRICT;
            """),
    ];
}
