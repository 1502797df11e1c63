using System.Net;
using System.Text.Json;
using AgentWorker.Processing;
using AgentWorker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace AgentWorker.Tests.Processing;

public sealed class WorkItemProcessorTests
{
    [Fact]
    public async Task Process_ReturnsResult_AndCountsProcessed_WithIdentityLabels()
    {
        using var harness = new ProcessingHarness();

        var result = await harness.Processor.ProcessAsync(Items.Item("a", "Hello world."), CancellationToken.None).WaitAsync(Deadline.Default);

        Assert.Equal("a", result.Id);
        Assert.Equal(2, result.Analysis.WordCount);
        Assert.Equal(AgentBehaviours.Basic, result.Behaviour);
        Assert.Null(result.Upstream);
        Assert.Equal(new ServedBy("agent-worker", "canary", "1.1.0"), result.ServedBy);
        AssertIdentity(Assert.Single(harness.Processed.GetMeasurementSnapshot()), "1.1.0");
        Assert.Empty(harness.Failed.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task Process_LabelsMetrics_WithTheVersionCurrentAtRecordTime()
    {
        using var harness = new ProcessingHarness();

        await harness.Processor.ProcessAsync(Items.Item("a"), CancellationToken.None).WaitAsync(Deadline.Default);
        harness.Identity.SetVersion("2.0.0");
        var result = await harness.Processor.ProcessAsync(Items.Item("b"), CancellationToken.None).WaitAsync(Deadline.Default);

        Assert.Equal("2.0.0", result.ServedBy.Version);
        Assert.Equal(["1.1.0", "2.0.0"], harness.Processed.GetMeasurementSnapshot().Select(m => m.Tags["version"]));
    }

    [Fact]
    public async Task Process_WithFailureRateOne_FailsEveryItem_AndCountsFailed()
    {
        using var harness = new ProcessingHarness(new Dictionary<string, string?> { ["Worker:Faults:FailureRate"] = "1" });

        var error = await Assert.ThrowsAsync<ProcessingException>(
            () => harness.Processor.ProcessAsync(Items.Item("a"), CancellationToken.None).WaitAsync(Deadline.Default));

        Assert.Equal(ProcessingFailure.InjectedFault, error.Failure);
        Assert.Equal(HttpStatusCode.InternalServerError, error.StatusCode);
        AssertIdentity(Assert.Single(harness.Failed.GetMeasurementSnapshot()), "1.1.0");
        Assert.Empty(harness.Processed.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task Process_WithSeededRandom_FailsTheSameItemsEveryRun()
    {
        var settings = new Dictionary<string, string?> { ["Worker:Faults:FailureRate"] = "0.5", ["Worker:Faults:Seed"] = "7" };
        var expected = new Random(7);
        var expectedOutcomes = Enumerable.Range(0, 20).Select(_ => expected.NextDouble() >= 0.5).ToArray();

        var first = await OutcomesAsync(settings);
        var second = await OutcomesAsync(settings);

        Assert.Equal(expectedOutcomes, first);
        Assert.Equal(first, second);
        Assert.Contains(true, first);
        Assert.Contains(false, first);
    }

    [Fact]
    public async Task Process_WithLatency_WaitsOnTheInjectedTimeProvider()
    {
        using var harness = new ProcessingHarness(new Dictionary<string, string?> { ["Worker:Faults:Latency"] = "00:00:05" });

        var processing = harness.Processor.ProcessAsync(Items.Item("a"), CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(processing.IsCompleted);
        harness.Time.Advance(TimeSpan.FromSeconds(0.1));

        var result = await processing.WaitAsync(Deadline.Default);
        Assert.Equal("a", result.Id);
    }

    [Fact]
    public async Task Process_CancelledDuringLatency_CountsNeitherProcessedNorFailed()
    {
        using var harness = new ProcessingHarness(new Dictionary<string, string?> { ["Worker:Faults:Latency"] = "00:01:00" });
        using var cancellation = new CancellationTokenSource();

        var processing = harness.Processor.ProcessAsync(Items.Item("a"), cancellation.Token);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => processing.WaitAsync(Deadline.Default));
        Assert.Empty(harness.Processed.GetMeasurementSnapshot());
        Assert.Empty(harness.Failed.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task Process_WithUpstream_PostsTheNormalisedItem_AndTimesTheCall()
    {
        ProcessingHarness? harness = null;
        var upstream = new FakeUpstreamHandler(_ =>
        {
            // The upstream "takes" 250 ms of fake time: the histogram must see exactly that.
            harness!.Time.Advance(TimeSpan.FromMilliseconds(250));
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        });
        using var _ = harness = new ProcessingHarness(UpstreamAt("http://upstream.test/work"), upstream);

        var result = await harness.Processor.ProcessAsync(Items.Item("a", "Hello world."), CancellationToken.None).WaitAsync(Deadline.Default);

        Assert.Equal(new UpstreamCallResult(200, 0.25), result.Upstream);
        var measurement = Assert.Single(harness.ApiDuration.GetMeasurementSnapshot());
        Assert.Equal(0.25, measurement.Value);
        AssertIdentity(measurement, "1.1.0");
        using var sent = JsonDocument.Parse(Assert.Single(upstream.Bodies));
        Assert.Equal("a", sent.RootElement.GetProperty("id").GetString());
        Assert.Equal("Hello world.", sent.RootElement.GetProperty("payload").GetProperty("text").GetString());
    }

    [Fact]
    public async Task Process_WithTheUpstreamCallsKillSwitchOff_ProcessesLocally_WithoutCallingTheUpstream()
    {
        var upstream = new FakeUpstreamHandler(_ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)));
        var settings = UpstreamAt("http://upstream.test/work");
        settings["feature_management:feature_flags:1:id"] = AgentFlags.UpstreamCalls;
        settings["feature_management:feature_flags:1:enabled"] = "false";
        using var harness = new ProcessingHarness(settings, upstream);

        var result = await harness.Processor.ProcessAsync(Items.Item("a", "Hello world."), CancellationToken.None).WaitAsync(Deadline.Default);

        Assert.Null(result.Upstream);
        Assert.Empty(upstream.Bodies);
        Assert.Empty(harness.ApiDuration.GetMeasurementSnapshot());
        Assert.Single(harness.Processed.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task Process_WhenUpstreamAnswersAnError_FailsTheItem_AndStillTimesTheCall()
    {
        var upstream = new FakeUpstreamHandler(_ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)));
        using var harness = new ProcessingHarness(UpstreamAt("http://upstream.test/work"), upstream);

        var error = await Assert.ThrowsAsync<ProcessingException>(
            () => harness.Processor.ProcessAsync(Items.Item("a"), CancellationToken.None).WaitAsync(Deadline.Default));

        Assert.Equal(ProcessingFailure.UpstreamFailed, error.Failure);
        Assert.Equal(HttpStatusCode.BadGateway, error.StatusCode);
        Assert.Contains("503", error.Message, StringComparison.Ordinal);
        Assert.Single(harness.ApiDuration.GetMeasurementSnapshot());
        Assert.Single(harness.Failed.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task Process_WhenUpstreamIsUnreachable_FailsTheItem_AndStillTimesTheCall()
    {
        var upstream = new FakeUpstreamHandler(_ => throw new HttpRequestException("Connection refused"));
        using var harness = new ProcessingHarness(UpstreamAt("http://upstream.test/work"), upstream);

        var error = await Assert.ThrowsAsync<ProcessingException>(
            () => harness.Processor.ProcessAsync(Items.Item("a"), CancellationToken.None).WaitAsync(Deadline.Default));

        Assert.Equal(ProcessingFailure.UpstreamFailed, error.Failure);
        Assert.IsType<HttpRequestException>(error.InnerException);
        Assert.Single(harness.ApiDuration.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task Process_WithEnrichedOutputFlagOn_ReportsVariantAndKeywords()
    {
        using var harness = new ProcessingHarness(new Dictionary<string, string?>
        {
            ["feature_management:feature_flags:0:id"] = AgentFlags.EnrichedOutput,
            ["feature_management:feature_flags:0:enabled"] = "true",
            ["feature_management:feature_flags:0:variants:0:name"] = "top-two",
            ["feature_management:feature_flags:0:variants:0:configuration_value:keywordCount"] = "2",
            ["feature_management:feature_flags:0:allocation:default_when_enabled"] = "top-two",
        });

        var result = await harness.Processor.ProcessAsync(Items.Item("a", "canary canary latency latency errors"), CancellationToken.None)
            .WaitAsync(Deadline.Default);

        Assert.Equal(AgentBehaviours.Enriched, result.Behaviour);
        Assert.Equal("top-two", result.Variant);
        Assert.Equal(["canary", "latency"], result.Analysis.Keywords);
    }

    [Fact]
    public async Task Process_WithEnrichedOutputFlagOff_ServesTheBasicBehaviour()
    {
        using var harness = new ProcessingHarness(new Dictionary<string, string?>
        {
            ["feature_management:feature_flags:0:id"] = AgentFlags.EnrichedOutput,
            ["feature_management:feature_flags:0:enabled"] = "false",
        });

        var result = await harness.Processor.ProcessAsync(Items.Item("a"), CancellationToken.None).WaitAsync(Deadline.Default);

        Assert.Equal(AgentBehaviours.Basic, result.Behaviour);
        Assert.Null(result.Variant);
        Assert.Null(result.Analysis.Keywords);
    }

    [Fact]
    public async Task Process_WhenFlagsCannotBeEvaluated_ServesTheBasicBehaviour()
    {
        using var harness = new ProcessingHarness(configure: services =>
            services.AddSingleton<Microsoft.FeatureManagement.IVariantFeatureManager, ThrowingFeatureManager>());

        var result = await harness.Processor.ProcessAsync(Items.Item("a"), CancellationToken.None).WaitAsync(Deadline.Default);

        Assert.Equal(AgentBehaviours.Basic, result.Behaviour);
        Assert.Single(harness.Processed.GetMeasurementSnapshot());
    }

    private static async Task<bool[]> OutcomesAsync(Dictionary<string, string?> settings)
    {
        using var harness = new ProcessingHarness(settings);
        var outcomes = new bool[20];
        for (var i = 0; i < outcomes.Length; i++)
        {
            try
            {
                await harness.Processor.ProcessAsync(Items.Item($"item-{i}"), CancellationToken.None).WaitAsync(Deadline.Default);
                outcomes[i] = true;
            }
            catch (ProcessingException)
            {
                outcomes[i] = false;
            }
        }

        Assert.Equal(outcomes.Count(ok => ok), harness.Processed.GetMeasurementSnapshot().Count);
        Assert.Equal(outcomes.Count(ok => !ok), harness.Failed.GetMeasurementSnapshot().Count);
        return outcomes;
    }

    private static Dictionary<string, string?> UpstreamAt(string url) => new() { ["Worker:UpstreamUrl"] = url };

    private static void AssertIdentity<T>(CollectedMeasurement<T> measurement, string version)
        where T : struct
    {
        Assert.Equal("agent-worker", measurement.Tags["agent"]);
        Assert.Equal("canary", measurement.Tags["track"]);
        Assert.Equal(version, measurement.Tags["version"]);
    }

    private sealed class ThrowingFeatureManager : Microsoft.FeatureManagement.IVariantFeatureManager
    {
        public IAsyncEnumerable<string> GetFeatureNamesAsync(CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The flag source is down.");

        public ValueTask<bool> IsEnabledAsync(string feature, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The flag source is down.");

        public ValueTask<bool> IsEnabledAsync<TContext>(string feature, TContext context, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The flag source is down.");

        public ValueTask<Microsoft.FeatureManagement.Variant> GetVariantAsync(string feature, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The flag source is down.");

        public ValueTask<Microsoft.FeatureManagement.Variant> GetVariantAsync(
            string feature,
            Microsoft.FeatureManagement.FeatureFilters.ITargetingContext context,
            CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The flag source is down.");
    }
}
