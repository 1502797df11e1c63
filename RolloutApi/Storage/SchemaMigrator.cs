using System.Data;
using Microsoft.Data.Sqlite;

namespace RolloutApi.Storage;

/// <summary>Brings the database file up to the schema every registered <see cref="ISchemaContributor"/> expects.</summary>
public sealed partial class SchemaMigrator(
    SqliteDatabase database, IEnumerable<ISchemaContributor> contributors, TimeProvider time, ILogger<SchemaMigrator> logger)
{
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using (var wal = connection.CreateCommand())
        {
            // Persistent in the file: set once, every later connection inherits it.
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            var mode = (string?)await wal.ExecuteScalarAsync(cancellationToken);
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"SQLite refused WAL mode for {database.FilePath} (got '{mode}').");
            }
        }

        await using (var create = connection.CreateCommand())
        {
            create.CommandText = """
                CREATE TABLE IF NOT EXISTS schema_versions (
                    component  TEXT PRIMARY KEY,
                    version    INTEGER NOT NULL,
                    applied_at TEXT NOT NULL
                ) STRICT;
                """;
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (var contributor in contributors.OrderBy(c => c.Component == CoreSchema.ComponentName ? 0 : 1))
        {
            await MigrateAsync(connection, contributor, cancellationToken);
        }
    }

    private async Task MigrateAsync(SqliteConnection connection, ISchemaContributor contributor, CancellationToken cancellationToken)
    {
        var migrations = contributor.Migrations;
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException($"Schema '{contributor.Component}': migrations must be numbered 1..n in order.");
            }
        }

        foreach (var migration in migrations)
        {
            // The version is re-read under the write lock, so two processes starting together apply each step once.
            await using var transaction = connection.BeginTransaction(IsolationLevel.Serializable, deferred: false);
            var current = await CurrentVersionAsync(connection, transaction, contributor.Component, cancellationToken);
            if (current > migrations.Count)
            {
                throw new InvalidOperationException(
                    $"Database schema '{contributor.Component}' is at version {current}, newer than this build knows ({migrations.Count}).");
            }

            if (migration.Version <= current)
            {
                continue;
            }

            await using (var apply = connection.CreateCommand())
            {
                apply.Transaction = transaction;
                apply.CommandText = migration.Sql;
                await apply.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var record = connection.CreateCommand())
            {
                record.Transaction = transaction;
                record.CommandText = """
                    INSERT INTO schema_versions (component, version, applied_at) VALUES ($component, $version, $at)
                    ON CONFLICT (component) DO UPDATE SET version = excluded.version, applied_at = excluded.applied_at
                    """;
                record.With("$component", contributor.Component).With("$version", migration.Version).With("$at", time.GetUtcNow());
                await record.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            Log.Applied(logger, contributor.Component, migration.Version, migration.Description);
        }
    }

    private static async Task<int> CurrentVersionAsync(
        SqliteConnection connection, SqliteTransaction transaction, string component, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT version FROM schema_versions WHERE component = $component";
        command.With("$component", component);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null ? 0 : Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3350, Level = LogLevel.Information, Message = "Applied schema migration {Component} v{Version}: {Description}")]
        public static partial void Applied(ILogger logger, string component, int version, string description);
    }
}
