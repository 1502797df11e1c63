using AgentAspire.Contracts;
using Xunit.Abstractions;

namespace AppHost.Tests.FirstHour;

/// <summary>What a newcomer sees in the first minute after <c>dotnet run --project AppHost</c> with the demo traffic on.</summary>
[Collection(FirstHourCollection.Name)]
public sealed class FirstMinuteTests(FirstHourFixture app, ITestOutputHelper output)
{
    // Spelled out: users' dashboards and alerts depend on these exact names and labels.
    internal const string Processed = "agent_processed_items_total";
    internal const string Failed = "agent_failed_items_total";
    internal const string DurationCount = "agent_api_request_duration_seconds_count";
    internal const string QueueSize = "agent_queue_size";
    private const string AgentLabel = "agent";
    private const string TrackLabel = "track";
    private const string VersionLabel = "version";

    internal static readonly string[] AgentMetricNames = [Processed, Failed, DurationCount, QueueSize];

    [Fact]
    public async Task All_four_agent_metrics_appear_within_a_minute_of_starting_with_agent_track_and_version_labels()
    {
        // "Within a minute of starting" counts from the AppHost's start (the fixture's StartAsync), as a person counts
        // from `dotnet run`: the start itself, the demo client's first items and the agents' own /metrics are all in it.
        // The fixture scrapes agent-stable from the moment it is healthy, whatever test runs first (AgentMetricsMoved).
        var (seenAfter, samples) = await app.AgentMetricsMoved;
        output.WriteLine($"All four agent metrics moved on agent-stable {seenAfter.TotalSeconds:0.0} s after the start " +
            $"(healthy after {app.HealthyAfter.TotalSeconds:0.0} s).");
        Assert.True(seenAfter < TimeSpan.FromMinutes(1),
            $"The four agent metrics moved on agent-stable {seenAfter.TotalSeconds:0.0} s after starting, not within a minute " +
            $"(healthy after {app.HealthyAfter.TotalSeconds:0.0} s). Scrape:\n" +
            string.Join('\n', samples.Where(s => s.Name.StartsWith("agent_", StringComparison.Ordinal))));

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

    internal static bool AllFourMove(IReadOnlyList<Sample> samples)
    {
        double Value(string name) => samples.Where(s => s.Name == name).Sum(s => s.Value);
        return AgentMetricNames.All(name => samples.Any(s => s.Name == name))
            && Value(Processed) > 0
            && Value(DurationCount) > 0;
    }
}
