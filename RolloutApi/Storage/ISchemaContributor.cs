namespace RolloutApi.Storage;

/// <summary>
/// A component that owns tables in the database. Each component numbers its own migrations from 1; the migrator applies
/// the missing ones in order, each in its own transaction, and records <c>(component, version)</c> in
/// <c>schema_versions</c>. Register with <c>TryAddEnumerable</c>; the <see cref="CoreSchema"/> component runs first.
/// </summary>
public interface ISchemaContributor
{
    /// <summary>A stable name, e.g. <c>core</c> or <c>flags</c>.</summary>
    string Component { get; }

    /// <summary>Versions 1..n in order. Released migrations are never edited; add a new one instead.</summary>
    IReadOnlyList<SchemaMigration> Migrations { get; }
}

/// <summary>One forward-only schema step: a SQL script run inside a transaction.</summary>
public sealed record SchemaMigration(int Version, string Description, string Sql);
