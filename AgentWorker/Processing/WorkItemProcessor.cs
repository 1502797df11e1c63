using System.Diagnostics;
using AgentAspire.Agent.Flags;
using AgentAspire.Agent.Identity;
using AgentWorker.Telemetry;
using Microsoft.FeatureManagement;

namespace AgentWorker.Processing;

/// <summary>Processes one valid work item: the same path for the synchronous endpoint and the background workers.</summary>
public interface IWorkItemProcessor
{
    /// <summary>Returns the result, or throws <see cref="ProcessingException"/> when processing failed.</summary>
    Task<WorkResult> ProcessAsync(WorkItem item, CancellationToken cancellationToken);
}

/// <summary>
/// Fault injection, local analysis, the flag-chosen behaviour and the optional upstream call, counted into
/// <c>agent_processed_items_total</c> or <c>agent_failed_items_total</c> (cancellation counts as neither).
/// </summary>
internal sealed partial class WorkItemProcessor(
    FaultInjector faults,
    UpstreamClient upstream,
    IVariantFeatureManager features,
    IFlagEvaluationRecorder flagRecorder,
    AgentMetrics metrics,
    IAgentIdentity identity,
    TimeProvider timeProvider,
    ILogger<WorkItemProcessor> logger) : IWorkItemProcessor
{
    private const int MaxKeywordCount = 20;

    public async Task<WorkResult> ProcessAsync(WorkItem item, CancellationToken cancellationToken)
    {
        using var activity = AgentTelemetry.ActivitySource.StartActivity("agent.process_item");
        activity?.SetTag("agent.item.id", item.Id);
        activity?.SetTag("agent.item.kind", item.Kind);
        try
        {
            await faults.ApplyAsync(cancellationToken);
            var behaviour = await ChooseBehaviourAsync(cancellationToken);
            var analysis = TextAnalyzer.Analyze(item.Payload.Text, behaviour.KeywordCount);
            var upstreamCall = await CallsUpstreamAsync(cancellationToken) ? await upstream.CallAsync(item, cancellationToken) : null;

            metrics.ItemProcessed();
            activity?.SetTag("agent.behaviour", behaviour.Name);
            return new WorkResult(
                item.Id,
                item.Kind,
                item.Payload,
                analysis,
                behaviour.Name,
                behaviour.Variant,
                upstreamCall,
                new ServedBy(identity.Agent, identity.Track, identity.Version),
                timeProvider.GetUtcNow());
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (ProcessingException ex)
        {
            metrics.ItemFailed();
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            Log.ItemFailed(logger, item.Id, ex.Failure, ex.Message);
            throw;
        }
        catch (Exception ex)
        {
            metrics.ItemFailed();
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            Log.ItemCrashed(logger, ex, item.Id);
            throw;
        }
    }

    // A flag that cannot be evaluated serves the default behaviour: a flag outage must never fail an item.
    private async Task<Behaviour> ChooseBehaviourAsync(CancellationToken cancellationToken)
    {
        try
        {
            // Which variant served the item goes on the span and the evaluations counter, so analysis can compare variants.
            if (!await features.IsEnabledAsync(AgentFlags.EnrichedOutput, cancellationToken))
            {
                flagRecorder.Record(AgentFlags.EnrichedOutput, enabled: false);
                return Behaviour.Basic;
            }

            var variant = await features.GetVariantAndRecordAsync(flagRecorder, AgentFlags.EnrichedOutput, cancellationToken);
            var keywordCount = int.TryParse(variant?.Configuration?[AgentFlags.KeywordCountSetting], out var configured)
                ? Math.Clamp(configured, 1, MaxKeywordCount)
                : TextAnalyzer.DefaultKeywordCount;
            return new Behaviour(AgentBehaviours.Enriched, variant?.Name, keywordCount);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.FlagEvaluationFailed(logger, ex, AgentFlags.EnrichedOutput);
            return Behaviour.Basic;
        }
    }

    // The operational kill switch; a flag that cannot be evaluated is off, like every other flag.
    private async Task<bool> CallsUpstreamAsync(CancellationToken cancellationToken)
    {
        try
        {
            var enabled = await features.IsEnabledAsync(AgentFlags.UpstreamCalls, cancellationToken);
            flagRecorder.Record(AgentFlags.UpstreamCalls, enabled);
            return enabled;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.FlagEvaluationFailed(logger, ex, AgentFlags.UpstreamCalls);
            return false;
        }
    }

    private sealed record Behaviour(string Name, string? Variant, int KeywordCount)
    {
        public static readonly Behaviour Basic = new(AgentBehaviours.Basic, null, 0);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "Item {ItemId} failed ({Failure}): {Reason}")]
        public static partial void ItemFailed(ILogger logger, string itemId, ProcessingFailure failure, string reason);

        [LoggerMessage(EventId = 1101, Level = LogLevel.Error, Message = "Item {ItemId} failed unexpectedly.")]
        public static partial void ItemCrashed(ILogger logger, Exception exception, string itemId);

        [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Flag {Flag} could not be evaluated; serving the default behaviour.")]
        public static partial void FlagEvaluationFailed(ILogger logger, Exception exception, string flag);
    }
}
