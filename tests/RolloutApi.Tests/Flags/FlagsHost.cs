using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text.Json;
using AgentAspire.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Flags;

/// <summary>
/// The real RolloutApi (its Program, pipeline, auth, engine and flags feature) on a temporary database, with a short
/// stream heartbeat.
/// </summary>
public sealed class FlagsHost : IDisposable
{
    public const string Agent = RolloutApiFactory.Agent;
    public const string AgentPath = $"/api/agents/{Agent}";

    private readonly RolloutApiFactory _factory;

    /// <param name="time">The clock (a FakeTimeProvider freezes pauses).</param>
    /// <param name="databasePath">A database file the caller keeps across hosts (a restart); by default the host's own temporary one.</param>
    public FlagsHost(TimeProvider? time = null, string? databasePath = null)
    {
        var settings = new Dictionary<string, string?> { ["RolloutApi:StreamHeartbeatInterval"] = "00:00:00.200" };
        if (databasePath is not null)
        {
            settings["RolloutApi:DatabasePath"] = databasePath;
        }

        _factory = new RolloutApiFactory(time, settings);
        DatabasePath = databasePath ?? _factory.DatabasePath;
        App = _factory;
    }

    public WebApplicationFactory<Program> App { get; }

    public string DatabasePath { get; }

    public IServiceProvider Services => App.Services;

    public HttpClient Operator() => Client(RolloutApiFactory.OperatorKey);

    public HttpClient Viewer() => Client(RolloutApiFactory.ViewerKey);

    public HttpClient Client(string? apiKey)
    {
        var client = App.CreateClient();
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    /// <summary>Opens the track's flag stream; dispose the result to close it.</summary>
    public async Task<FlagStream> OpenStreamAsync(string track, HttpClient? client = null)
    {
        var owned = client is null;
        client ??= Viewer();
        var cts = new CancellationTokenSource(Deadline.Stream * 3);
        var response = await client.GetAsync(FlagApiPaths.StreamFor(Agent, track), HttpCompletionOption.ResponseHeadersRead, cts.Token);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadAsStreamAsync(cts.Token);
        var events = SseParser.Create(body).EnumerateAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        return new FlagStream(response, events, cts, owned ? client : null);
    }

    /// <summary>Direct reads of the database file (a separate connection: what a reader sees after the commit).</summary>
    public async Task<T> QueryAsync<T>(string sql, Func<SqliteDataReader, T> read)
    {
        await using var connection = new SqliteConnection($"Data Source={DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync().WaitAsync(Deadline.Request);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync().WaitAsync(Deadline.Request);
        Assert.True(await reader.ReadAsync());
        return read(reader);
    }

    public Task<long> AuditCountAsync() => QueryAsync("SELECT count(*) FROM audit", r => r.GetInt64(0));

    public void Dispose() => _factory.Dispose();
}

/// <summary>An open flag stream: read snapshots one event at a time, each with a deadline.</summary>
public sealed class FlagStream(
    HttpResponseMessage response, IAsyncEnumerator<SseItem<string>> events, CancellationTokenSource cts, HttpClient? client) : IAsyncDisposable
{
    public HttpResponseMessage Response => response;

    public SseItem<string> Last { get; private set; }

    public async Task<FlagSnapshot> NextAsync()
    {
        Assert.True(await events.MoveNextAsync().AsTask().WaitAsync(Deadline.Stream), "the flag stream ended");
        Last = events.Current;
        Assert.Equal(FlagApiPaths.EventName, Last.EventType);
        var snapshot = JsonSerializer.Deserialize<FlagSnapshot>(Last.Data)!;
        Assert.Equal(snapshot.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), Last.EventId);
        return snapshot;
    }

    public async ValueTask DisposeAsync()
    {
        await cts.CancelAsync();
        try
        {
            await events.DisposeAsync();
        }
        catch (OperationCanceledException)
        {
            // Closing the stream cancels its pending read.
        }

        response.Dispose();
        client?.Dispose();
        cts.Dispose();
    }
}
