using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentAspire.Agent.Flags;
using AgentAspire.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.FeatureManagement;

namespace AgentAspire.Agent.Tests.Flags;

public sealed class FlagEvaluationRecorderTests
{
    [Fact]
    public async Task Recording_puts_the_variant_on_the_span_and_counts_it_by_variant()
    {
        await using var host = FlagTestHost.Create(new Dictionary<string, string?> { ["Agent:Version"] = "1.4.0" });
        host.Store.Apply(Snapshots.Create(6, """
            {"feature_flags":[{"id":"Planner","enabled":true,"variants":[{"name":"treatment"}],"allocation":{"default_when_enabled":"treatment"}}]}
            """), FlagSource.Remote);
        var recorder = host.Services.GetRequiredService<IFlagEvaluationRecorder>();
        var measurements = new List<(long Value, Dictionary<string, object?> Tags)>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == FlagTelemetryNames.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            measurements.Add((value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value))));
        meters.Start();
        using var source = new ActivitySource("test");
        using var spans = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "test",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(spans);

        FlagEvaluation evaluation;
        bool enabled;
        using (var activity = source.StartActivity("request")!)
        {
            var variant = await host.Features.GetVariantAndRecordAsync(recorder, "Planner");
            enabled = await host.Features.IsEnabledAndRecordAsync(recorder, "Killed");
            evaluation = recorder.Record("Planner", variant);

            Assert.Equal("treatment", activity.GetTagItem(FlagTelemetryNames.VariantAttribute));
            Assert.Equal("Planner", activity.GetTagItem(FlagTelemetryNames.KeyAttribute));
            var events = activity.Events.Where(e => e.Name == FlagTelemetryNames.EvaluationEvent).ToList();
            Assert.Equal(3, events.Count);
            var killed = events[1].Tags.ToDictionary(t => t.Key, t => t.Value);
            Assert.Equal("Killed", killed[FlagTelemetryNames.KeyAttribute]);
            Assert.Equal(FlagTelemetryNames.Off, killed[FlagTelemetryNames.VariantAttribute]);
            Assert.Equal(false, killed[FlagTelemetryNames.ValueAttribute]);
            Assert.Equal("6", killed[FlagTelemetryNames.VersionAttribute]);
        }

        Assert.False(enabled);
        Assert.Equal(new KeyValuePair<string, object?>(FlagTelemetryNames.VariantAttribute, "treatment"), evaluation.VariantTag);
        Assert.Equal(3, measurements.Count);
        var first = measurements[0].Tags;
        Assert.Equal("Planner", first[FlagTelemetryNames.KeyAttribute]);
        Assert.Equal("treatment", first[FlagTelemetryNames.VariantAttribute]);
        Assert.Equal("stable", first[AgentTelemetryNames.TrackLabel]);
        Assert.Equal("1.4.0", first[AgentTelemetryNames.VersionLabel]);
    }

    [Fact]
    public async Task A_flag_without_a_variant_is_recorded_as_none()
    {
        await using var host = FlagTestHost.Create();
        var recorder = host.Services.GetRequiredService<IFlagEvaluationRecorder>();

        Assert.Equal(FlagTelemetryNames.NoVariant, recorder.Record("Unknown", (Variant?)null).Variant);
        Assert.Equal(FlagTelemetryNames.On, recorder.Record("Plain", true).Variant);
    }
}
