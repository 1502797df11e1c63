using System.Data;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using SQLitePCL;
using RolloutApi.Hosting;

namespace RolloutApi.Storage;

/// <summary>
/// The SQLite file: opens connections with the per-connection settings and begins write transactions
/// (<see cref="UnitOfWork"/>). Connections are pooled by Microsoft.Data.Sqlite; one is opened per operation.
/// </summary>
/// <remarks>
/// <para>WAL lets readers (the snapshot GETs) run while a writer commits. <c>synchronous=FULL</c> fsyncs the WAL on every
/// commit: writes are a handful per minute, and an acknowledged abort must survive a power cut, not just a process crash
/// (NORMAL in WAL mode survives only the latter).</para>
/// <para>Writers inside this process queue on a semaphore instead of spinning on SQLITE_BUSY; <c>busy_timeout</c> still
/// covers other processes (a backup, an operator's sqlite3 shell).</para>
/// </remarks>
public sealed partial class SqliteDatabase : IDisposable
{
    private const string DefaultFileName = "rollout-api.db";
    private const string DataFolder = ".data";

    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly TimeProvider _time;
    private readonly string _connectionString;
    private readonly string _pragmas;
    private readonly ILogger<SqliteDatabase> _logger;

    public SqliteDatabase(IOptions<RolloutApiOptions> options, IHostEnvironment environment, TimeProvider time, ILogger<SqliteDatabase> logger)
    {
        _time = time;
        _logger = logger;
        var configured = options.Value.DatabasePath;
        FilePath = Path.GetFullPath(string.IsNullOrWhiteSpace(configured)
            ? Path.Combine(environment.ContentRootPath, DataFolder, DefaultFileName)
            : Path.Combine(environment.ContentRootPath, configured));
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);

        var busyMilliseconds = (int)options.Value.BusyTimeout.TotalMilliseconds;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = Math.Max(1, busyMilliseconds / 1000),
        }.ToString();
        _pragmas = $"PRAGMA busy_timeout = {busyMilliseconds}; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;";
    }

    /// <summary>The absolute path of the database file.</summary>
    public string FilePath { get; }

    /// <summary>
    /// Why writes fail, when the cause is that the database's files or their file system are read-only (see
    /// <see cref="ReadOnlyProbe"/>); null otherwise. For the 503 answer after a failed write.
    /// </summary>
    public string? DescribeReadOnly() => ReadOnlyProbe.Describe(FilePath);

    /// <summary>Opens a connection for reads (or for a caller that manages its own transaction, such as migrations).</summary>
    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            using var command = connection.CreateCommand();
            command.CommandText = _pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Opens a consistent read-only snapshot.</summary>
    public async Task<ReadSession> ReadAsync(CancellationToken cancellationToken) => new(await OpenAsync(cancellationToken));

    /// <summary>
    /// Begins a write transaction (<c>BEGIN IMMEDIATE</c>: the write lock is taken up front, so what the caller reads inside
    /// it cannot change before it commits). Dispose without <see cref="UnitOfWork.CommitAsync"/> to roll back.
    /// </summary>
    public async Task<UnitOfWork> BeginAsync(CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        SqliteConnection? connection = null;
        try
        {
            connection = await OpenAsync(cancellationToken);
            if (raw.sqlite3_db_readonly(connection.Handle, "main") == 1)
            {
                // SQLite quietly opens the file read-only when it cannot open it for writing, and that connection stays
                // read-only in the pool after the file is writable again: every later write would fail until a restart.
                // Drop the pool and open afresh; if the file is still read-only, the write fails with SQLITE_READONLY.
                Log.ReopeningReadOnlyConnection(_logger, FilePath);
                SqliteConnection.ClearPool(connection);
                await connection.DisposeAsync();
                connection = null;
                connection = await OpenAsync(cancellationToken);
            }

            var transaction = connection.BeginTransaction(IsolationLevel.Serializable, deferred: false);
            return new UnitOfWork(connection, transaction, _writeGate, _time.GetUtcNow());
        }
        catch
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }

            _writeGate.Release();
            throw;
        }
    }

    public void Dispose() => _writeGate.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 3320, Level = LogLevel.Warning, Message = "A pooled connection to {Path} was opened while the file was read-only; the pool is dropped and the write opens a new connection.")]
        public static partial void ReopeningReadOnlyConnection(ILogger logger, string path);
    }
}
