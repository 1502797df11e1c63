using System.Diagnostics;
using System.Globalization;
using AgentWorker.Configuration;
using AgentWorker.Processing;
using AgentWorker.Queue;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using ServiceDefaults.Http;

namespace AgentWorker.Apis;

/// <summary>
/// The work item endpoints: process one item now, queue a batch for the background workers, ask where a queued item is.
/// </summary>
public static partial class ItemsApi
{
    public const string RoutePrefix = "/api/items";

    public static IEndpointRouteBuilder MapItemsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(RoutePrefix).WithTags("Items");

        api.MapPost("/", ProcessItem)
            .WithName(nameof(ProcessItem))
            .WithSummary("Processes one work item synchronously and returns its result.")
            .Accepts<WorkItemRequest>("application/json")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status500InternalServerError)
            .ProducesProblem(StatusCodes.Status502BadGateway);

        api.MapPost("/batch", EnqueueBatch)
            .WithName(nameof(EnqueueBatch))
            .WithSummary("Queues a batch of work items for the background workers: all of them, or none when they do not fit.")
            .Accepts<BatchRequest>("application/json")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        api.MapGet("/{id}", GetItemStatus)
            .WithName(nameof(GetItemStatus))
            .WithSummary("Reports a queued item's state while it is pending and for a while after it finished.");

        return app;
    }

    public static async Task<Results<Ok<WorkResult>, ValidationProblem, ProblemHttpResult>> ProcessItem(
        HttpRequest request,
        [AsParameters] ItemsApiServices services,
        CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync(
            request, WorkItemJsonContext.Default.WorkItemRequest, services.Options.Value.MaxRequestBodyBytes, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new ValidationErrors();
        if (services.Parser.Parse(body, prefix: "", errors) is not { } item)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary(), title: "The work item is invalid.");
        }

        try
        {
            return TypedResults.Ok(await services.Processor.ProcessAsync(item, cancellationToken));
        }
        catch (ProcessingException ex)
        {
            return TypedResults.Problem(
                statusCode: (int)ex.StatusCode,
                title: "Processing failed",
                detail: ex.Message,
                extensions: new Dictionary<string, object?> { ["itemId"] = item.Id, ["failure"] = ex.Failure.ToString() });
        }
    }

    public static async Task<Results<Accepted<BatchAccepted>, ValidationProblem, ProblemHttpResult>> EnqueueBatch(
        HttpRequest request,
        [AsParameters] ItemsApiServices services,
        CancellationToken cancellationToken)
    {
        var options = services.Options.Value;
        var (body, problem) = await JsonBody.ReadAsync(
            request, ItemsApiJsonContext.Default.BatchRequest, options.MaxRequestBodyBytes, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new ValidationErrors();
        var items = ParseBatch(body!, services.Parser, options.MaxBatchSize, errors);
        if (items is null)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary(), title: "The batch is invalid; nothing was queued.");
        }

        var outcome = services.Queue.TryEnqueueAll(items, Activity.Current?.Context ?? default);
        switch (outcome.Status)
        {
            case EnqueueStatus.Accepted:
                Log.BatchAccepted(services.Logger, items.Count, outcome.QueueSize);
                return TypedResults.Accepted((string?)null, new BatchAccepted([.. items.Select(item => item.Id)], outcome.QueueSize));

            case EnqueueStatus.Full:
                Log.BatchRefused(services.Logger, items.Count, outcome.FreeSlots);
                SetRetryAfter(request.HttpContext, options.RetryAfter);
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status429TooManyRequests,
                    title: "Queue full",
                    detail: $"The batch of {items.Count} items does not fit: {outcome.FreeSlots} of {services.Queue.Capacity} slots are free. Nothing was queued.",
                    extensions: new Dictionary<string, object?> { ["freeSlots"] = outcome.FreeSlots, ["queueSize"] = outcome.QueueSize });

            case EnqueueStatus.Conflict:
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status409Conflict,
                    title: "Items already pending",
                    detail: "Some ids are already queued or being processed. Nothing was queued.",
                    extensions: new Dictionary<string, object?> { ["ids"] = outcome.ConflictingIds });

            default:
                SetRetryAfter(request.HttpContext, options.RetryAfter);
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status503ServiceUnavailable,
                    title: "Shutting down",
                    detail: "The agent is draining its queue and accepts no new batches. Nothing was queued.");
        }
    }

    public static Results<Ok<ItemStatus>, ProblemHttpResult> GetItemStatus(string id, [AsParameters] ItemsApiServices services) =>
        (services.Queue.FindPending(id) ?? services.Statuses.Find(id)) is { } status
            ? TypedResults.Ok(status)
            : TypedResults.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "Unknown item",
                detail: $"No item '{id}' is pending or finished recently.");

    private static List<WorkItem>? ParseBatch(BatchRequest body, WorkItemParser parser, int maxBatchSize, ValidationErrors errors)
    {
        if (body.Items is not { } requests)
        {
            errors.Add("items", "The items array is required.");
            return null;
        }

        if (requests.Count == 0 || requests.Count > maxBatchSize)
        {
            errors.Add("items", $"A batch holds 1 to {maxBatchSize} items; this one has {requests.Count}.");
            return null;
        }

        var items = new List<WorkItem>(requests.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < requests.Count; i++)
        {
            var prefix = $"items[{i}]";
            if (parser.Parse(requests[i], prefix, errors) is not { } item)
            {
                continue;
            }

            if (!seen.Add(item.Id))
            {
                errors.Add($"{prefix}.id", $"The id '{item.Id}' appears more than once in the batch.");
                continue;
            }

            items.Add(item);
        }

        return errors.IsEmpty ? items : null;
    }

    private static void SetRetryAfter(HttpContext context, TimeSpan retryAfter) =>
        context.Response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1000, Level = LogLevel.Debug, Message = "Queued a batch of {Count} items; {QueueSize} items wait.")]
        public static partial void BatchAccepted(ILogger logger, int count, int queueSize);

        [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Refused a batch of {Count} items: only {FreeSlots} slots are free.")]
        public static partial void BatchRefused(ILogger logger, int count, int freeSlots);
    }
}

/// <summary>What the items endpoints need from the container, bound as one parameter.</summary>
public sealed record ItemsApiServices(
    WorkItemParser Parser,
    IWorkItemProcessor Processor,
    WorkQueue Queue,
    ItemStatusStore Statuses,
    IOptions<WorkerOptions> Options,
    ILogger<ItemsApiServices> Logger);
