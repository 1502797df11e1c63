using System.Diagnostics;
using System.Net;
using AgentAspire.Contracts;
using Microsoft.Data.Sqlite;
using RolloutApi.Rollouts;
using RolloutApi.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RolloutApi.Tests.Durability;

/// <summary>
/// A real RolloutApi process with its database on a small tmpfs of its own, and the disk fills up: writes get 503 problem
/// details (never a 500), reads go on, nothing acknowledged is lost, the file passes SQLite's integrity check, and writes
/// succeed again once space returns, without a restart.
/// Needs root (it mounts the tmpfs); the suite runs as root here.
/// </summary>
public sealed class StorageFaultTests(ITestOutputHelper output)
{
    private const string AgentPath = $"/api/agents/{RolloutApiFactory.Agent}";
    private const int MaxAttempts = 400;

    [Fact]
    public async Task A_full_disk_gives_503_problems_loses_nothing_and_recovers_when_space_returns()
    {
        var mountPoint = TestPaths.NewTempDirectory();
        Run("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mountPoint);
        try
        {
            var database = Path.Combine(mountPoint, "storage.db");
            var acknowledged = new List<(int Number, string Version)>();
            var statuses = new Dictionary<string, int>();
            string refusedVersion;
            using (var api = RolloutApiProcess.Start(database, new Dictionary<string, string?> { ["RolloutApi:RevisionHistoryLimit"] = "1000" }))
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

            // Nothing acknowledged was lost, nothing is corrupt.
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
            // The refused write left nothing behind.
            Assert.DoesNotContain(refusedVersion, onDisk.Values);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            foreach (var file in Directory.GetFiles(mountPoint))
            {
                RunQuietly("chattr", "-i", file);
            }

            Run("umount", "-l", mountPoint);
            TestPaths.TryDelete(mountPoint);
        }
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

    private static void Run(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit(10_000);
        Assert.True(process.ExitCode == 0, $"{command} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error} " +
            "(this test mounts a tmpfs and needs root)");
    }

    private static void RunQuietly(string command, params string[] arguments)
    {
        try
        {
            Run(command, arguments);
        }
        catch (Xunit.Sdk.XunitException)
        {
            // Cleanup: best effort.
        }
    }

    private sealed record Attempt(HttpStatusCode Status, string? ContentType, string Body, TimeSpan? RetryAfter, string Version);
}
