using Microsoft.Data.Sqlite;

namespace RolloutApi.Storage;

/// <summary>
/// One SQLite write transaction, shared by everything that must change together (a rollout transition, its audit entry,
/// the routing table, and any <see cref="ITransitionParticipant"/> such as flags), plus work to run once it has committed.
/// </summary>
public sealed class UnitOfWork : ISqlSession, IAsyncDisposable
{
    private readonly SemaphoreSlim _gate;
    private readonly List<Action> _afterCommit = [];
    private bool _completed;

    internal UnitOfWork(SqliteConnection connection, SqliteTransaction transaction, SemaphoreSlim gate, DateTimeOffset now)
    {
        Connection = connection;
        Transaction = transaction;
        _gate = gate;
        Now = now;
    }

    public SqliteConnection Connection { get; }

    public SqliteTransaction Transaction { get; }

    /// <summary>The time of this change: one clock reading per transaction, so every row it writes agrees.</summary>
    public DateTimeOffset Now { get; }

    /// <summary>A command enlisted in this transaction.</summary>
    public SqliteCommand Command(string sql)
    {
        var command = Connection.CreateCommand();
        command.Transaction = Transaction;
        command.CommandText = sql;
        return command;
    }

    /// <summary>
    /// Runs <paramref name="action"/> after a successful commit (publishing a stream snapshot, waking the reconciler).
    /// Never runs on rollback. Actions must not throw; they run in registration order.
    /// </summary>
    public void OnCommitted(Action action) => _afterCommit.Add(action);

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        // Not cancellable past this point: a commit that was requested should not be torn by a client disconnecting.
        await Transaction.CommitAsync(CancellationToken.None);
        _completed = true;
        foreach (var action in _afterCommit)
        {
            action();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_completed)
            {
                await Transaction.RollbackAsync(CancellationToken.None);
            }
        }
        finally
        {
            await Transaction.DisposeAsync();
            await Connection.DisposeAsync();
            _gate.Release();
        }
    }
}
