using Microsoft.AspNetCore.Http.HttpResults;
using UpstreamApi.Faults;

namespace UpstreamApi.Apis;

/// <summary>
/// The control API: make one track's upstream calls slow or failing at run time, read what is in force, clear it.
/// No key: the simulator is a local development and test resource, never deployed.
/// </summary>
public static partial class FaultsApi
{
    public static IEndpointRouteBuilder MapFaultsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(UpstreamPaths.Faults).WithTags("Faults");

        api.MapGet("/", ListFaults)
            .WithName(nameof(ListFaults))
            .WithSummary("The faults in force, by calling track.");

        api.MapGet("/{track}", GetFault)
            .WithName(nameof(GetFault))
            .WithSummary("One track's fault (latencyMs 0 and errorRate 0 when none is set).");

        api.MapPut("/{track}", SetFault)
            .WithName(nameof(SetFault))
            .WithSummary("Sets a track's fault: {\"latencyMs\": 500, \"errorRate\": 0.25} (added latency in ms, share of calls that fail).")
            .ProducesValidationProblem();

        api.MapDelete("/{track}", ClearFault)
            .WithName(nameof(ClearFault))
            .WithSummary("Clears a track's fault.");

        api.MapDelete("/", ClearFaults)
            .WithName(nameof(ClearFaults))
            .WithSummary("Clears every fault.");

        return app;
    }

    public static Ok<FaultsView> ListFaults(FaultTable faults) => TypedResults.Ok(new FaultsView(faults.All));

    public static Results<Ok<TrackFault>, ValidationProblem> GetFault(string track, FaultTable faults) =>
        FaultLimits.IsValidTrack(track)
            ? TypedResults.Ok(faults.For(track) ?? new TrackFault(0, 0))
            : InvalidTrack(track);

    public static Results<Ok<TrackFault>, ValidationProblem> SetFault(
        string track, FaultRequest request, FaultTable faults, ILogger<FaultTable> logger)
    {
        var errors = new Dictionary<string, string[]>();
        if (!FaultLimits.IsValidTrack(track))
        {
            errors["track"] = [$"'{track}' is not a track name ({FaultLimits.TrackRule})."];
        }

        var latencyMs = request.LatencyMs ?? 0;
        if (latencyMs < 0 || latencyMs > FaultLimits.MaxLatency.TotalMilliseconds)
        {
            errors["latencyMs"] = [$"latencyMs is between 0 and {FaultLimits.MaxLatency.TotalMilliseconds:0}."];
        }

        var errorRate = request.ErrorRate ?? 0;
        if (!(errorRate >= 0 && errorRate <= 1))
        {
            errors["errorRate"] = ["errorRate is a share between 0 and 1."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid fault");
        }

        var fault = new TrackFault(latencyMs, errorRate);
        faults.Set(track, fault);
        Log.FaultSet(logger, track, latencyMs, errorRate);
        return TypedResults.Ok(fault);
    }

    public static Results<NoContent, ValidationProblem> ClearFault(string track, FaultTable faults, ILogger<FaultTable> logger)
    {
        if (!FaultLimits.IsValidTrack(track))
        {
            return InvalidTrack(track);
        }

        if (faults.Clear(track))
        {
            Log.FaultCleared(logger, track);
        }

        return TypedResults.NoContent();
    }

    public static NoContent ClearFaults(FaultTable faults, ILogger<FaultTable> logger)
    {
        faults.ClearAll();
        Log.FaultsCleared(logger);
        return TypedResults.NoContent();
    }

    private static ValidationProblem InvalidTrack(string track) =>
        TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { ["track"] = [$"'{track}' is not a track name ({FaultLimits.TrackRule})."] },
            title: "Invalid track");

    private static partial class Log
    {
        [LoggerMessage(EventId = 5000, Level = LogLevel.Information, Message = "Fault for track {Track}: +{LatencyMs} ms, error rate {ErrorRate}")]
        public static partial void FaultSet(ILogger logger, string track, int latencyMs, double errorRate);

        [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Fault for track {Track} cleared")]
        public static partial void FaultCleared(ILogger logger, string track);

        [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Every fault cleared")]
        public static partial void FaultsCleared(ILogger logger);
    }
}
