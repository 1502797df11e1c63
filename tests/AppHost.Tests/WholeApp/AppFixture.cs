using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AgentAspire.Contracts;
using AppHost;
using Microsoft.Extensions.DependencyInjection;

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

    /// <summary>The app's local build store (a temporary folder: tests never write to the user's ~/.agentaspire).</summary>
    public string BuildStorePath => Path.Combine(_dataDirectory, "builds");

    public string OperatorKey { get; private set; } = "";

    public string ViewerKey { get; private set; } = "";

    public async Task InitializeAsync()
    {
        using var cts = new CancellationTokenSource(StartDeadline);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            // The opt-in Prometheus is on: the PromQL drill queries it (AnalysisDrillTests).
            [$"--{ConfigurationKeys.DatabasePath}={Path.Combine(_dataDirectory, "rollouts.db")}", $"--{ConfigurationKeys.Prometheus}=true",
                $"--{ConfigurationKeys.BuildStore}={BuildStorePath}"],
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
        // Services are projects; the agent tracks are executables (dotnet <build>/AgentWorker.dll) locally.
        foreach (var project in builder.Resources.Where(r => r is ProjectResource or ExecutableResource))
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

    /// <summary>
    /// Re-opens forced traffic to the canary (<c>X-Agent-Track: canary</c>), which the canary of an aborted rollout refuses
    /// until an operator allows it, and waits until the gateway lets a forced request through. For tests that force the
    /// canary after another test of the collection aborted a rollout.
    /// </summary>
    public async Task AllowForcedCanaryAsync()
    {
        using var api = CreateOperatorClient();
        using (var response = await api.PutAsJsonAsync($"/api/agents/{ResourceNames.DefaultAgent}/forced-canary", new { allowed = true })
            .WaitAsync(RequestDeadline))
        {
            // 409: the newest rollout is not aborted, so forced traffic is open already.
            Assert.True(response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.Conflict,
                $"PUT forced-canary: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        using var gateway = CreateGatewayClient();
        await RoutingTests.WaitUntilAsync(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, AgentPaths.Identity);
            request.Headers.Add(AgentHeaders.Track, Tracks.Canary);
            using var forced = await gateway.SendAsync(request).WaitAsync(RequestDeadline);
            return forced.StatusCode != HttpStatusCode.Forbidden;
        }, "the gateway to let forced canary traffic through");
    }

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
