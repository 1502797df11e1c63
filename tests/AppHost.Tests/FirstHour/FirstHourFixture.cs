using System.Diagnostics;
using AgentAspire.Contracts;
using AppHost;
using Microsoft.Extensions.DependencyInjection;

namespace AppHost.Tests.FirstHour;

/// <summary>
/// The app as a newcomer starts it: a fresh database, the upstream simulator, and the demo traffic switched on (the
/// README's switch). Its own collection, because it needs that configuration and an empty database for the README's
/// walkthrough.
/// </summary>
public sealed class FirstHourFixture : IAsyncLifetime
{
    public static readonly TimeSpan StartDeadline = TimeSpan.FromMinutes(3);
    public static readonly TimeSpan RequestDeadline = TimeSpan.FromSeconds(30);

    public static readonly string[] Services =
        [ResourceNames.RolloutApi, ResourceNames.UpstreamApi, ResourceNames.AgentStable, ResourceNames.AgentCanary, ResourceNames.Gateway, ResourceNames.DemoTraffic];

    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("agentaspire-first-hour-").FullName;

    public DistributedApplication App { get; private set; } = null!;

    /// <summary>Every service's logs, exported over OTLP as they would be to the dashboard.</summary>
    internal OtlpLogCollector Logs { get; private set; } = null!;

    /// <summary>The wall-clock moments the app was started and found healthy (log records carry wall-clock times).</summary>
    public DateTimeOffset StartedAt { get; private set; }

    public DateTimeOffset HealthyAt { get; private set; }

    public string OperatorKey { get; private set; } = "";

    /// <summary>When <c>StartAsync</c> was called: "within a minute of starting" counts from here.</summary>
    public Stopwatch SinceStart { get; } = new();

    /// <summary>How long after <c>StartAsync</c> every resource was healthy.</summary>
    public TimeSpan HealthyAfter { get; private set; }

    public async Task InitializeAsync()
    {
        using var cts = new CancellationTokenSource(StartDeadline);
        Logs = await OtlpLogCollector.StartAsync();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            [$"--{ConfigurationKeys.DatabasePath}={Path.Combine(_dataDirectory, "rollouts.db")}", $"--{ConfigurationKeys.DemoTraffic}=true",
                $"--{ConfigurationKeys.BuildStore}={Path.Combine(_dataDirectory, "builds")}"],
            (options, _) => options.DisableDashboard = true,
            cts.Token);
        // No retries and no cookie jar: the tests assert on exactly what the app answered.
        builder.Services.ConfigureHttpClientDefaults(http => http
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { UseCookies = false })
            .ConfigureHttpClient(client => client.Timeout = RequestDeadline));

        // Services are projects; the agent tracks are executables (dotnet <build>/AgentWorker.dll) locally.
        foreach (var project in builder.Resources.Where(r => r is ProjectResource or ExecutableResource))
        {
            project.Annotations.Add(new EnvironmentCallbackAnnotation(context =>
            {
                // The dashboard is off: the services export to the test's collector instead, the same way (OTLP/HTTP).
                context.EnvironmentVariables["OTEL_EXPORTER_OTLP_ENDPOINT"] = Logs.Endpoint.ToString().TrimEnd('/');
                context.EnvironmentVariables["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
                // Each request's "Request starting" line (Information): a record logged after a given moment, which the
                // start-log test waits for to know that everything logged before it has been exported.
                context.EnvironmentVariables["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information";
                // Each agent keeps its last-known flags in a file; a fresh app has none (the README's reset).
                context.EnvironmentVariables["Flags__CachePath"] = Path.Combine(_dataDirectory, $"{project.Name}-flags.json");
            }));
        }

        App = await builder.BuildAsync(cts.Token);
        StartedAt = DateTimeOffset.UtcNow;
        SinceStart.Start();
        await App.StartAsync(cts.Token);

        var operatorKey = builder.Resources.OfType<ParameterResource>().Single(p => p.Name == ParameterNames.OperatorApiKey);
        OperatorKey = await operatorKey.GetValueAsync(cts.Token) ?? throw new InvalidOperationException("No operator key.");
        foreach (var name in Services)
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(name, cts.Token);
        }

        HealthyAfter = SinceStart.Elapsed;
        HealthyAt = DateTimeOffset.UtcNow;
        AgentMetricsMoved = WatchAgentMetricsAsync();
    }

    /// <summary>
    /// When (since the start) a scrape of agent-stable's own <c>/metrics</c> first showed all four agent metrics, with
    /// items processed and upstream calls timed, and that scrape. Watched from the moment the app is healthy, so the
    /// figure does not depend on which test of the collection runs first.
    /// </summary>
    internal Task<(TimeSpan SeenAfter, IReadOnlyList<Sample> Samples)> AgentMetricsMoved { get; private set; } = null!;

    private async Task<(TimeSpan, IReadOnlyList<Sample>)> WatchAgentMetricsAsync()
    {
        using var stable = CreateClient(ResourceNames.AgentStable);
        using var deadline = new CancellationTokenSource(StartDeadline);
        while (true)
        {
            var samples = PrometheusScrape.Parse(await stable.GetStringAsync("/metrics", deadline.Token));
            if (FirstMinuteTests.AllFourMove(samples))
            {
                return (SinceStart.Elapsed, samples);
            }

            await Task.Delay(250, deadline.Token);
        }
    }

    public HttpClient CreateClient(string resource) => App.CreateHttpClient(resource, "http");

    public Uri Endpoint(string resource) => App.GetEndpoint(resource, "http");

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        }

        if (Logs is not null)
        {
            await Logs.DisposeAsync();
        }

        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A process that has not let go of a file yet; the temp folder is cleaned by the OS.
        }
    }
}

[CollectionDefinition(Name)]
public sealed class FirstHourCollection : ICollectionFixture<FirstHourFixture>
{
    public const string Name = "first hour";
}
