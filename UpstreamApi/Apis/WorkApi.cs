using AgentAspire.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using UpstreamApi.Faults;

namespace UpstreamApi.Apis;

/// <summary>The upstream call agents make for every work item: answers after a latency, or fails, as the faults say.</summary>
public static partial class WorkApi
{
    public static IEndpointRouteBuilder MapWorkApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(UpstreamPaths.Work, AcceptWork)
            .WithName(nameof(AcceptWork))
            .WithSummary("Accepts a work item after the base latency plus the calling track's fault; fails with 503 at its error rate.")
            .WithTags("Work");
        return app;
    }

    public static async Task<Results<Ok<WorkAnswer>, ProblemHttpResult>> AcceptWork(
        HttpRequest request,
        FaultTable faults,
        IUpstreamRandom random,
        UpstreamMetrics metrics,
        IOptions<UpstreamOptions> options,
        TimeProvider timeProvider,
        ILogger<FaultTable> logger,
        CancellationToken cancellationToken)
    {
        // The caller's own word for its track (agents send it); the body is not needed to decide.
        var track = request.Headers[AgentHeaders.Track].ToString() is { Length: > 0 } header && FaultLimits.IsValidTrack(header)
            ? header
            : FaultLimits.UnknownTrack;
        var fault = faults.For(track);
        var latency = options.Value.BaseLatency + options.Value.Jitter * random.NextDouble()
            + TimeSpan.FromMilliseconds(fault?.LatencyMs ?? 0);
        await Task.Delay(latency, timeProvider, cancellationToken);

        var latencyMs = (int)Math.Round(latency.TotalMilliseconds);
        if (fault is { ErrorRate: > 0 } && random.NextDouble() < fault.ErrorRate)
        {
            metrics.Answered(track, failed: true);
            Log.SimulatedFailure(logger, track, fault.ErrorRate);
            return TypedResults.Problem(
                title: "Simulated upstream failure",
                detail: $"The upstream simulator fails {fault.ErrorRate:P0} of the '{track}' track's calls (see {UpstreamPaths.Faults}).",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        metrics.Answered(track, failed: false);
        return TypedResults.Ok(new WorkAnswer(track, latencyMs));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5100, Level = LogLevel.Debug, Message = "Simulated a failure for track {Track} (error rate {ErrorRate})")]
        public static partial void SimulatedFailure(ILogger logger, string track, double errorRate);
    }
}
