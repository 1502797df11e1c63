using System.Net.Http.Headers;
using AppHost;
using Microsoft.Extensions.DependencyInjection;
using ServiceDefaults.Contracts;

namespace AppHost.Tests.WholeApp;

/// <summary>
/// One running AgentAspire (all four resources, dashboard off, a temporary SQLite file) shared by the
/// whole-app tests: starting it costs seconds, so tests share it instead of starting one each.
/// </summary>
public sealed class AppFixture : IAsyncLifetime
{
    public static readonly TimeSpan StartDeadline = TimeSpan.FromMinutes(3);
    public static readonly TimeSpan RequestDeadline = TimeSpan.FromSeconds(30);

    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("agentaspire-apphost-tests-").FullName;

    public DistributedApplication App { get; private set; } = null!;

    public string OperatorKey { get; private set; } = "";

    public string ViewerKey { get; private set; } = "";

    public async Task InitializeAsync()
    {
        using var cts = new CancellationTokenSource(StartDeadline);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            [$"--{ConfigurationKeys.DatabasePath}={Path.Combine(_dataDirectory, "rollouts.db")}"],
            (options, _) => options.DisableDashboard = true,
            cts.Token);
        builder.Services.ConfigureHttpClientDefaults(http => http
            // No cookie jar: the gateway's sticky cookie would turn every later request into a keyed one, and the
            // factory shares handlers (and so cookies) between clients.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { UseCookies = false })
            // No resilience handler: a retried request hides a failure, and the tests assert what the app answered
            // to each request they sent. Only a deadline, so that a hung request fails the test instead of hanging it.
            .ConfigureHttpClient(client => client.Timeout = RequestDeadline));

        // The dashboard is off, so nothing listens at the OTLP endpoint Aspire hands the services; their exporters
        // would retry in memory and make every stop (the tests stop and restart resources) take 15 s or more.
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            project.Annotations.Add(new EnvironmentCallbackAnnotation(context =>
            {
                context.EnvironmentVariables.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
            }));
        }

        App = await builder.BuildAsync(cts.Token);
        await App.StartAsync(cts.Token);

        OperatorKey = await GetParameterAsync(builder, ParameterNames.OperatorApiKey, cts.Token);
        ViewerKey = await GetParameterAsync(builder, ParameterNames.ViewerApiKey, cts.Token);

        foreach (var name in new[] { ResourceNames.RolloutApi, ResourceNames.AgentStable, ResourceNames.AgentCanary, ResourceNames.Gateway })
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(name, cts.Token);
        }
    }

    /// <summary>A client for the gateway: where users' traffic enters.</summary>
    public HttpClient CreateGatewayClient() => App.CreateHttpClient(ResourceNames.Gateway, "http");

    /// <summary>A client for RolloutApi carrying the operator key.</summary>
    public HttpClient CreateOperatorClient()
    {
        var client = App.CreateHttpClient(ResourceNames.RolloutApi, "http");
        client.DefaultRequestHeaders.Add(AgentHeaders.ApiKey, OperatorKey);
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        }

        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A process that has not let go of the file yet; the temp folder is cleaned by the OS.
        }
    }

    private static async Task<string> GetParameterAsync(IDistributedApplicationTestingBuilder builder, string name, CancellationToken cancellationToken)
    {
        var parameter = builder.Resources.OfType<ParameterResource>().Single(p => p.Name == name);
        return await parameter.GetValueAsync(cancellationToken) ?? throw new InvalidOperationException($"Parameter {name} has no value.");
    }
}

[CollectionDefinition(Name)]
public sealed class WholeAppCollection : ICollectionFixture<AppFixture>
{
    public const string Name = "whole app";
}
