using System.Net;
using AgentAspire.Contracts;
using AgentWorker.Queue;
using AgentWorker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentWorker.Tests.Apis;

public sealed class HealthTests
{
    [Fact]
    public async Task Health_IsReady_OnceTheWorkersRun()
    {
        using var factory = new AgentWorkerFactory(new Dictionary<string, string?> { ["Worker:Workers"] = "2" });
        using var client = factory.CreateTestClient();

        await Deadline.UntilAsync(async () => (await client.GetAsync("/health")).StatusCode == HttpStatusCode.OK, "/health answers 200");

        Assert.Equal(2, factory.Services.GetRequiredService<WorkerPoolState>().Running);
        using var alive = await client.GetAsync("/alive");
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal(factory.Version, Assert.Single(alive.Headers.GetValues(AgentHeaders.Version)));
    }

    [Fact]
    public async Task Health_IsNotReady_WhileNoWorkerRuns_ButTheProcessIsAlive()
    {
        // Without the worker service nothing ever takes items: the agent must not report ready.
        using var factory = new AgentWorkerFactory(configureServices: services =>
        {
            var workers = services.Single(service => service.ServiceType == typeof(IHostedService) && service.ImplementationType == typeof(QueueWorkerService));
            services.Remove(workers);
        });
        using var client = factory.CreateTestClient();

        using var health = await client.GetAsync("/health");
        using var alive = await client.GetAsync("/alive");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal("Unhealthy", await health.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }
}
