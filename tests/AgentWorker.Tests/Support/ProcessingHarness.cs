using System.Diagnostics.Metrics;
using AgentAspire.Agent.Identity;
using AgentWorker.Extensions;
using AgentWorker.Processing;
using AgentWorker.Queue;
using AgentWorker.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace AgentWorker.Tests.Support;

/// <summary>
/// The agent's real service wiring (<c>AddApplicationServices</c>) without a web server: fake time, an optional fake
/// upstream handler, and metric collectors scoped to this container only.
/// </summary>
internal sealed class ProcessingHarness : IDisposable
{
    private readonly IHost _host;

    public ProcessingHarness(
        IDictionary<string, string?>? settings = null,
        HttpMessageHandler? upstream = null,
        Action<IServiceCollection>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agent:Name"] = "agent-worker",
            ["Agent:Track"] = "canary",
            ["Agent:Version"] = "1.1.0",
            ["Flags:CachePath"] = Path.Combine(Path.GetTempPath(), "agentaspire-tests", $"{Guid.NewGuid():N}.flags.json"),
            ["Flags:ReadyTimeout"] = "00:00:00.100",
            ["Flags:RolloutApi"] = "http://127.0.0.1:9",
        });
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        builder.AddAgentIdentity();
        builder.AddApplicationServices();
        builder.Services.AddSingleton<TimeProvider>(Time);
        if (upstream is not null)
        {
            builder.Services.AddHttpClient(UpstreamClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => upstream);
        }

        configure?.Invoke(builder.Services);
        _host = builder.Build();

        var meterFactory = Services.GetRequiredService<IMeterFactory>();
        Processed = new MetricCollector<long>(meterFactory, AgentMetrics.MeterName, AgentMetrics.ProcessedItems);
        Failed = new MetricCollector<long>(meterFactory, AgentMetrics.MeterName, AgentMetrics.FailedItems);
        ApiDuration = new MetricCollector<double>(meterFactory, AgentMetrics.MeterName, AgentMetrics.ApiRequestDuration);
        QueueSize = new MetricCollector<int>(meterFactory, AgentMetrics.MeterName, AgentMetrics.QueueSize);
        // The instruments exist once AgentMetrics does; the collectors above see them whenever they appear.
        Services.GetRequiredService<AgentMetrics>();
        // AgentMetrics starts both counters at 0 (MetricsTests checks that); these tests count what processing adds.
        Processed.Clear();
        Failed.Clear();
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public IServiceProvider Services => _host.Services;

    public IWorkItemProcessor Processor => Services.GetRequiredService<IWorkItemProcessor>();

    public WorkItemParser Parser => Services.GetRequiredService<WorkItemParser>();

    public WorkQueue Queue => Services.GetRequiredService<WorkQueue>();

    public IAgentIdentity Identity => Services.GetRequiredService<IAgentIdentity>();

    public MetricCollector<long> Processed { get; }

    public MetricCollector<long> Failed { get; }

    public MetricCollector<double> ApiDuration { get; }

    public MetricCollector<int> QueueSize { get; }

    public void Dispose()
    {
        Processed.Dispose();
        Failed.Dispose();
        ApiDuration.Dispose();
        QueueSize.Dispose();
        _host.Dispose();
    }
}

/// <summary>An upstream that answers from a function, so tests decide status, timing and failures.</summary>
internal sealed class FakeUpstreamHandler(Func<HttpRequestMessage, Task<HttpResponseMessage>> respond) : HttpMessageHandler
{
    public List<string> Bodies { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is not null)
        {
            var body = await request.Content.ReadAsStringAsync(cancellationToken);
            lock (Bodies)
            {
                Bodies.Add(body);
            }
        }

        return await respond(request);
    }
}
