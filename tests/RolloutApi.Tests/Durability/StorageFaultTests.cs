using System.Net;
using System.Text.Json;
using AgentAspire.Contracts;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RolloutApi.Hosting;
using RolloutApi.Rollouts;
using RolloutApi.Storage;
using RolloutApi.Tests.Infrastructure;
using SQLitePCL;
using Xunit.Abstractions;

namespace RolloutApi.Tests.Durability;

/// <summary>
/// A real RolloutApi process whose storage fails under it: the disk fills up (a 16 MB tmpfs of its own), the database
/// file becomes read-only (<c>chattr +i</c> on a small ext4 loop volume), or the whole file system fails read-only the way
/// ext4 does after a disk error. Each time: writes get 503 problem details naming the cause (never a 500, never a type
/// name), reads go on, nothing acknowledged is lost, the file passes SQLite's integrity check, and writes succeed again
/// once the storage is fixed. Needs root (mount, chattr, losetup); the suite runs as root here.
/// </summary>
public sealed class StorageFaultTests(ITestOutputHelper output)
{
    private const string AgentPath = $"/api/agents/{RolloutApiFactory.Agent}";
    private const int MaxAttempts = 400;

    [Fact]
    public async Task A_full_disk_gives_503_problems_loses_nothing_and_recovers_when_space_returns()
    {
        var mountPoint = TestPaths.NewTempDirectory();
        Shell.Run("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mountPoint);
        try
        {
            var database = Path.Combine(mountPoint, "storage.db");
            var acknowledged = new List<(int Number, string Version)>();
            var statuses = new Dictionary<string, int>();
            string refusedVersion;
            using (var api = RolloutApiProcess.Start(database, KeepRevisions()))
            {
                await api.WaitReadyAsync(TimeSpan.FromSeconds(60));
                using var client = api.CreateClient();
                var serial = 0;
                Assert.Equal(HttpStatusCode.Created, (await CreateRevisionAsync(client, ++serial, acknowledged)).Status);

                // Disk full: fill the file system, then write until SQLite runs out of room.
                var filler = Path.Combine(mountPoint, "filler");
                Fill(filler);
                var full = await WriteUntilRefusedAsync(client, () => ++serial, acknowledged, statuses, "full");
                Assert.Equal("application/problem+json", full.ContentType);
                Assert.Contains("disk full", full.Body, StringComparison.Ordinal);
                Assert.NotNull(full.RetryAfter);
                refusedVersion = full.Version;
                await AssertReadsWorkAsync(client);

                // Space returns: the next write succeeds, no restart.
                File.Delete(filler);
                Assert.Equal(HttpStatusCode.Created, (await CreateRevisionAsync(client, ++serial, acknowledged)).Status);

                output.WriteLine($"statuses: {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key} x{s.Value}"))}; " +
                    $"acknowledged revisions: {acknowledged.Count}; full: {full.Body}");
                await api.KillAsync();
            }

            // Nothing acknowledged was lost, nothing is corrupt, the refused write left nothing behind.
            await AssertNothingLostAsync(database, acknowledged, [refusedVersion]);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Shell.Run("umount", "-l", mountPoint);
            TestPaths.TryDelete(mountPoint);
        }
    }

    [Fact]
    public async Task A_read_only_database_file_gives_503_problems_loses_nothing_and_writes_again_once_writable()
    {
        using var volume = LoopVolume.Create(megabytes: 32);
        var database = Path.Combine(volume.MountPoint, "storage.db");
        var acknowledged = new List<(int Number, string Version)>();
        var refused = new List<string>();
        var serial = 0;
        using (var api = RolloutApiProcess.Start(database, KeepRevisions()))
        {
            await api.WaitReadyAsync(TimeSpan.FromSeconds(60));
            using var client = api.CreateClient();
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(HttpStatusCode.Created, (await CreateRevisionAsync(client, ++serial, acknowledged)).Status);
            }

            // RolloutApi runs SQLite in WAL mode: a commit is appended to storage.db-wal, and storage.db itself is written
            // only at a checkpoint. "The database file is read-only" therefore means both files; with storage.db alone
            // immutable, commits still land in the WAL (durably) until a checkpoint needs the main file. The -shm file is
            // left alone: it is memory-mapped, and an immutable mapping kills the process with SIGBUS on its next write
            // (that is the kernel, not a state RolloutApi can answer from).
            Assert.True(File.Exists(database + "-wal") && File.Exists(database + "-shm"), "the database is not in WAL mode");
            LoopVolume.MakeImmutable(database, database + "-wal");
            try
            {
                for (var i = 0; i < 3; i++)
                {
                    var attempt = await CreateRevisionAsync(client, ++serial, acknowledged);
                    refused.Add(attempt.Version);
                    AssertUnavailable(attempt, "the database file storage.db is read-only");
                }

                // Reads go on, several at once: connections SQLite opens now are read-only ones, and they go back to
                // RolloutApi's connection pool (the recovery below must not be stuck with them).
                var reads = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => client.GetAsync($"{AgentPath}/revisions").WaitAsync(Deadline.Request)));
                Assert.All(reads, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
                foreach (var read in reads)
                {
                    read.Dispose();
                }

                await AssertReadsWorkAsync(client, acknowledged, refused);
            }
            finally
            {
                LoopVolume.MakeWritable(database, database + "-wal");
            }

            // Writable again: the next writes succeed in the same process.
            for (var i = 0; i < 3; i++)
            {
                var attempt = await CreateRevisionAsync(client, ++serial, acknowledged);
                Assert.True(attempt.Status == HttpStatusCode.Created, $"after chattr -i: {(int)attempt.Status} {attempt.Body}");
            }

            output.WriteLine($"read-only file, running process: {refused.Count} writes refused, e.g. {LastBody}; then 3 of 3 writes 201 " +
                $"without a restart; SQLite codes behind the 503s: {SqliteCodes(api.Output)}");

            // Read-only again, and the process dies: an operator restarts it before fixing the file.
            LoopVolume.MakeImmutable(database, database + "-wal");
            await api.KillAsync();
        }

        // Started on the read-only file: every connection SQLite opens is a read-only one. It serves reads, refuses writes
        // with the cause, and takes writes once the file is writable, still without a restart (the pool must not keep the
        // read-only connections).
        using (var api = RolloutApiProcess.Start(database, KeepRevisions()))
        {
            try
            {
                await api.WaitReadyAsync(TimeSpan.FromSeconds(60));
                using var client = api.CreateClient();
                await AssertReadsWorkAsync(client, acknowledged, refused);
                var attempt = await CreateRevisionAsync(client, ++serial, acknowledged);
                refused.Add(attempt.Version);
                AssertUnavailable(attempt, "the database file storage.db is read-only");
                LoopVolume.MakeWritable(database, database + "-wal");
                attempt = await CreateRevisionAsync(client, ++serial, acknowledged);
                Assert.True(attempt.Status == HttpStatusCode.Created, $"started read-only, then chattr -i: {(int)attempt.Status} {attempt.Body}");
                output.WriteLine($"started on the read-only file: reads 200, write 503 ({SqliteCodes(api.Output)}), after chattr -i 201 without a restart; " +
                    $"read-only pooled connections dropped: {Count(api.Output, "opened while the file was read-only")}");
                await api.KillAsync();
            }
            finally
            {
                LoopVolume.MakeWritable(database, database + "-wal");
            }
        }

        // And after a restart on the writable file.
        await WriteAfterRestartAsync(database, ++serial, acknowledged, refused);
        output.WriteLine($"acknowledged revisions: {acknowledged.Count}, all in the file; integrity_check ok");
    }

    [Fact]
    public async Task A_file_system_failing_read_only_gives_503_problems_and_loses_nothing_after_fsck_and_restart()
    {
        using var volume = LoopVolume.Create(megabytes: 32);
        var database = Path.Combine(volume.MountPoint, "storage.db");
        var acknowledged = new List<(int Number, string Version)>();
        var refused = new List<string>();
        var serial = 0;
        using (var api = RolloutApiProcess.Start(database, KeepRevisions()))
        {
            await api.WaitReadyAsync(TimeSpan.FromSeconds(60));
            using var client = api.CreateClient();
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(HttpStatusCode.Created, (await CreateRevisionAsync(client, ++serial, acknowledged)).Status);
            }

            volume.FailReadOnly();
            for (var i = 0; i < 3; i++)
            {
                var attempt = await CreateRevisionAsync(client, ++serial, acknowledged);
                refused.Add(attempt.Version);
                AssertUnavailable(attempt, "the file system holding the database is read-only");
            }

            await AssertReadsWorkAsync(client, acknowledged, refused);
            output.WriteLine($"read-only file system: {refused.Count} writes refused, e.g. {LastBody}; SQLite codes behind the 503s: {SqliteCodes(api.Output)}");

            // A disk error is repaired by the operator: stop the service, unmount, fsck, mount. ext4 does not allow the
            // file system back to read-write while it is mounted, so there is no "recover without a restart" here.
            await api.KillAsync();
        }

        output.WriteLine(volume.Repair());
        await AssertNothingLostAsync(database, acknowledged, refused);

        await WriteAfterRestartAsync(database, ++serial, acknowledged, refused);
        output.WriteLine($"after fsck and a restart: acknowledged revisions {acknowledged.Count}, all in the file; integrity_check ok");
    }

    /// <summary>
    /// The pool trap, at the storage layer where it can be set up exactly: SQLite quietly opens a read-only file
    /// read-only, and such a connection stays read-only after the file is writable again. Returned to the pool, it would
    /// refuse every later write until a restart.
    /// </summary>
    [Fact]
    public async Task A_connection_opened_while_the_file_was_read_only_does_not_keep_writes_refused()
    {
        using var volume = LoopVolume.Create(megabytes: 16);
        var path = Path.Combine(volume.MountPoint, "pool.db");
        using var database = new SqliteDatabase(
            Options.Create(new RolloutApiOptions { DatabasePath = path }),
            new HostingEnvironment { ContentRootPath = volume.MountPoint },
            TimeProvider.System,
            NullLogger<SqliteDatabase>.Instance);
        try
        {
            await using (var setup = await database.OpenAsync(CancellationToken.None))
            await using (var command = setup.CreateCommand())
            {
                command.CommandText = "PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);";
                await command.ExecuteNonQueryAsync();
            }

            // One connection stays checked out (opened while writable); the second one is opened while the file is
            // immutable, so SQLite opens it read-only; it goes back to the pool as the only idle connection.
            await using var held = await database.OpenAsync(CancellationToken.None);
            LoopVolume.MakeImmutable(path, path + "-wal");
            await using (var readOnly = await database.OpenAsync(CancellationToken.None))
            {
                Assert.Equal(1, raw.sqlite3_db_readonly(readOnly.Handle, "main"));
            }

            LoopVolume.MakeWritable(path, path + "-wal");
            for (var i = 0; i < 3; i++)
            {
                await using var unit = await database.BeginAsync(CancellationToken.None);
                await using var insert = unit.Command("INSERT INTO t VALUES (1)");
                await insert.ExecuteNonQueryAsync();
                await unit.CommitAsync(CancellationToken.None);
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
        }
    }

    private string LastBody { get; set; } = "";

    /// <summary>No revision is pruned (the default keeps 10), so every acknowledged one must still be in the file.</summary>
    /// <summary>A restart on the (writable) file: a write is acknowledged, reads see every acknowledged revision and no
    /// refused one, and after the kill the file still holds them all and passes the integrity check.</summary>
    private static async Task WriteAfterRestartAsync(string database, int serial, List<(int Number, string Version)> acknowledged, List<string> refused)
    {
        using (var api = RolloutApiProcess.Start(database, KeepRevisions()))
        {
            await api.WaitReadyAsync(TimeSpan.FromSeconds(60));
            using var client = api.CreateClient();
            Assert.Equal(HttpStatusCode.Created, (await CreateRevisionAsync(client, serial, acknowledged)).Status);
            await AssertReadsWorkAsync(client, acknowledged, refused);
            await api.KillAsync();
        }

        await AssertNothingLostAsync(database, acknowledged, refused);
    }

    private static Dictionary<string, string?> KeepRevisions() => new() { ["RolloutApi:RevisionHistoryLimit"] = "1000" };

    private void AssertUnavailable(Attempt attempt, string cause)
    {
        Assert.True(attempt.Status == HttpStatusCode.ServiceUnavailable, $"expected 503, got {(int)attempt.Status}: {attempt.Body}");
        Assert.Equal("application/problem+json", attempt.ContentType);
        Assert.NotNull(attempt.RetryAfter);
        using var problem = JsonDocument.Parse(attempt.Body);
        Assert.Equal(503, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Contains(cause, problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        foreach (var leak in new[] { "Exception", "Microsoft.", "System.", "SQLitePCL", "RolloutApi." })
        {
            Assert.DoesNotContain(leak, attempt.Body, StringComparison.Ordinal);
        }

        LastBody = attempt.Body;
    }

    /// <summary>The file passes SQLite's integrity check, holds every acknowledged revision and none of the refused ones.</summary>
    private static async Task AssertNothingLostAsync(string database, List<(int Number, string Version)> acknowledged, List<string> refused)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using (var check = connection.CreateCommand())
        {
            check.CommandText = "PRAGMA integrity_check";
            Assert.Equal("ok", (string?)await check.ExecuteScalarAsync());
        }

        var onDisk = new Dictionary<int, string>();
        await using (var read = connection.CreateCommand())
        {
            read.CommandText = "SELECT number, version FROM revisions";
            await using var reader = await read.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                onDisk[reader.GetInt32(0)] = reader.GetString(1);
            }
        }

        Assert.All(acknowledged, a => Assert.Equal(a.Version, onDisk.GetValueOrDefault(a.Number)));
        Assert.All(refused, r => Assert.DoesNotContain(r, onDisk.Values));
    }

    /// <summary>The distinct primary/extended SQLite codes RolloutApi logged with its 503s (e.g. 10/778 is SQLITE_IOERR_WRITE).</summary>
    private static string SqliteCodes(string log) =>
        string.Join(", ", System.Text.RegularExpressions.Regex.Matches(log, @"SQLite (\d+/\d+)\)").Select(m => m.Groups[1].Value).Distinct());

    private static int Count(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>
    /// Creates revisions until one is refused; every answer must be 201 (then it is acknowledged and must survive) or a
    /// 503 problem. Bounded: SQLite may still have free pages when the file system is full.
    /// </summary>
    private static async Task<Attempt> WriteUntilRefusedAsync(
        HttpClient client, Func<int> serial, List<(int, string)> acknowledged, Dictionary<string, int> statuses, string phase)
    {
        for (var i = 0; i < MaxAttempts; i++)
        {
            var attempt = await CreateRevisionAsync(client, serial(), acknowledged);
            var key = $"{phase} {(int)attempt.Status}";
            statuses[key] = statuses.GetValueOrDefault(key) + 1;
            if (attempt.Status == HttpStatusCode.ServiceUnavailable)
            {
                return attempt;
            }

            Assert.True(attempt.Status == HttpStatusCode.Created, $"{phase}: {(int)attempt.Status} {attempt.Body}");
        }

        throw new InvalidOperationException($"{phase}: {MaxAttempts} writes and none was refused");
    }

    private static async Task<Attempt> CreateRevisionAsync(HttpClient client, int serial, List<(int Number, string Version)> acknowledged)
    {
        // A long description-sized version label is not allowed; many revisions fill the file just as well.
        var version = $"3.{serial}.0";
        using var response = await client.PostAsync($"{AgentPath}/revisions", Json.Body($$"""{"version": "{{version}}"}""")).WaitAsync(Deadline.Request);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode == HttpStatusCode.Created)
        {
            acknowledged.Add(((await response.ReadAsync<RevisionView>()).Number, version));
        }

        return new Attempt(response.StatusCode, response.Content.Headers.ContentType?.MediaType, body,
            response.Headers.RetryAfter?.Delta, version);
    }

    private static async Task AssertReadsWorkAsync(HttpClient client)
    {
        using var routing = await client.GetAsync(RolloutApiPaths.Routing).WaitAsync(Deadline.Request);
        Assert.Equal(HttpStatusCode.OK, routing.StatusCode);
        using var revisions = await client.GetAsync($"{AgentPath}/revisions").WaitAsync(Deadline.Request);
        Assert.Equal(HttpStatusCode.OK, revisions.StatusCode);
    }

    /// <summary>Reads answer, and the revision list shows every acknowledged version and none of the refused ones.</summary>
    private static async Task AssertReadsWorkAsync(HttpClient client, List<(int Number, string Version)> acknowledged, List<string> refused)
    {
        await AssertReadsWorkAsync(client);
        var listed = await client.GetStringAsync($"{AgentPath}/revisions").WaitAsync(Deadline.Request);
        Assert.All(acknowledged, a => Assert.Contains($"\"{a.Version}\"", listed, StringComparison.Ordinal));
        Assert.All(refused, r => Assert.DoesNotContain($"\"{r}\"", listed, StringComparison.Ordinal));
    }

    /// <summary>Writes zeros until the file system says it is full.</summary>
    private static void Fill(string path)
    {
        var chunk = new byte[64 * 1024];
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough);
        try
        {
            while (true)
            {
                file.Write(chunk);
            }
        }
        catch (IOException)
        {
            // ENOSPC: full, as intended. Smaller writes take the last few bytes.
        }

        try
        {
            while (true)
            {
                file.Write(chunk.AsSpan(0, 512));
            }
        }
        catch (IOException)
        {
        }
    }

    private sealed record Attempt(HttpStatusCode Status, string? ContentType, string Body, TimeSpan? RetryAfter, string Version);
}
