using System.Data;
using Microsoft.Data.Sqlite;

namespace RolloutApi.Storage;

/// <summary>Something SQL can run in: a <see cref="UnitOfWork"/> (writes) or a <see cref="ReadSession"/> (a consistent snapshot).</summary>
public interface ISqlSession
{
    SqliteCommand Command(string sql);
}

/// <summary>A read-only snapshot: a deferred transaction, so multi-statement reads see one consistent state (WAL).</summary>
public sealed class ReadSession : ISqlSession, IAsyncDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteTransaction _transaction;

    internal ReadSession(SqliteConnection connection)
    {
        _connection = connection;
        _transaction = connection.BeginTransaction(IsolationLevel.Serializable, deferred: true);
    }

    public SqliteCommand Command(string sql)
    {
        var command = _connection.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = sql;
        return command;
    }

    public async ValueTask DisposeAsync()
    {
        await _transaction.RollbackAsync(CancellationToken.None);
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
