using AgentAspire.Contracts;

namespace AppHost.Tests.FirstHour;

/// <summary>What a newcomer sees in the first minute after <c>dotnet run --project AppHost</c> with the demo traffic on.</summary>
[Collection(FirstHourCollection.Name)]
public sealed class FirstMinuteTests(FirstHourFixture app)
{
    // Spelled out: users' dashboards and alerts depend on these exact names and labels.
    private const string Processed = "agent_processed_items_total";
    private const string Failed = "agent_failed_items_total";
    private const string DurationCount = "agent_api_request_duration_seconds_count";
    private const string QueueSize = "agent_queue_size";
    private const string AgentLabel = "agent";
    private const string TrackLabel = "track";
    private const string VersionLabel = "version";

    private static readonly string[] AgentMetricNames = [Processed, Failed, DurationCount, QueueSize];

    [Fact]
    public async Task All_four_agent_metrics_appear_within_a_minute_of_starting_with_agent_track_and_version_labels()
    {
        // A minute from the moment the app is up (healthy): on a loaded 2-core CI machine the start alone can take
        // that long, and the demo client starts sending only once the gateway is healthy.
        var deadline = app.HealthyAfter + TimeSpan.FromMinutes(1);
        using var stable = app.CreateClient(ResourceNames.AgentStable);
        var samples = PrometheusScrape.Parse(await stable.GetStringAsync("/metrics"));
        // The demo traffic goes to stable (the canary has no weight yet): every metric appears and moves there.
        while (!AllFourMove(samples))
        {
            Assert.True(app.SinceStart.Elapsed < deadline,
                $"Not all four agent metrics moved on agent-stable within a minute of the app being healthy " +
                $"({app.HealthyAfter.TotalSeconds:0} s after starting). Last scrape:\n" +
                string.Join('\n', samples.Where(s => s.Name.StartsWith("agent_", StringComparison.Ordinal))));
            await Task.Delay(250);
            samples = PrometheusScrape.Parse(await stable.GetStringAsync("/metrics"));
        }

        foreach (var name in AgentMetricNames)
        {
            var sample = samples.First(s => s.Name == name);
            Assert.Equal(ResourceNames.DefaultAgent, sample.Labels[AgentLabel]);
            Assert.Equal(Tracks.Stable, sample.Labels[TrackLabel]);
            Assert.Equal("1.0.0", sample.Labels[VersionLabel]);
        }

        // The canary has had no traffic: its counters exist at 0 and its queue gauge is there, labelled as the canary.
        using var canary = app.CreateClient(ResourceNames.AgentCanary);
        var canarySamples = PrometheusScrape.Parse(await canary.GetStringAsync("/metrics"));
        foreach (var name in new[] { Processed, Failed, QueueSize })
        {
            var sample = Assert.Single(canarySamples, s => s.Name == name && s.Labels.GetValueOrDefault(TrackLabel) == Tracks.Canary);
            Assert.Equal(ResourceNames.DefaultAgent, sample.Labels[AgentLabel]);
        }
    }

    [Fact]
    public async Task Every_service_metrics_endpoint_passes_promtool_check_metrics()
    {
        foreach (var service in FirstHourFixture.Services)
        {
            using var client = app.CreateClient(service);
            var text = await client.GetStringAsync("/metrics");
            Assert.Contains("# TYPE", text, StringComparison.Ordinal);
            var (exitCode, output, error) = await Tools.RunAsync("promtool", ["check", "metrics"], text, TimeSpan.FromSeconds(30));
            Assert.True(exitCode == 0, $"promtool check metrics rejects {service}'s /metrics (exit {exitCode}):\n{output}{error}");
        }
    }

    private static bool AllFourMove(IReadOnlyList<Sample> samples)
    {
        double Value(string name) => samples.Where(s => s.Name == name).Sum(s => s.Value);
        return AgentMetricNames.All(name => samples.Any(s => s.Name == name))
            && Value(Processed) > 0
            && Value(DurationCount) > 0;
    }
}
