using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentAspire.Contracts;
using AgentWorker.Processing;
using AgentWorker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace AgentWorker.Tests.Apis;

public sealed class ItemsApiTests
{
    [Fact]
    public async Task ProcessItem_ReturnsTheNormalisedResult_StampedWithVersionAndTrack()
    {
        using var factory = new AgentWorkerFactory();
        using var client = factory.CreateTestClient();

        using var response = await client.PostAsJsonAsync(
            "/api/items",
            new { id = "item-1", kind = " Text ", payload = new { text = "  Hello   world. ", tags = new[] { "B", "a" } } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertAgentHeaders(factory, response);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        Assert.Equal("item-1", root.GetProperty("id").GetString());
        Assert.Equal("text", root.GetProperty("kind").GetString());
        Assert.Equal("Hello world.", root.GetProperty("payload").GetProperty("text").GetString());
        Assert.Equal(["a", "b"], root.GetProperty("payload").GetProperty("tags").EnumerateArray().Select(tag => tag.GetString()));
        Assert.Equal(2, root.GetProperty("analysis").GetProperty("wordCount").GetInt32());
        Assert.Equal(AgentBehaviours.Basic, root.GetProperty("behaviour").GetString());
        Assert.Equal(factory.Version, root.GetProperty("servedBy").GetProperty("version").GetString());
    }

    [Fact]
    public async Task ProcessItem_WithTheFlagOn_ServesTheEnrichedBehaviour()
    {
        using var factory = new AgentWorkerFactory(new Dictionary<string, string?>
        {
            ["feature_management:feature_flags:0:enabled"] = "true",
        });
        using var client = factory.CreateTestClient();

        using var response = await client.PostAsJsonAsync("/api/items", Items.Json("item-1", "latency latency errors"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(AgentBehaviours.Enriched, body.RootElement.GetProperty("behaviour").GetString());
        // appsettings.json allocates this variant whenever the flag is on.
        Assert.Equal("keywords-5", body.RootElement.GetProperty("variant").GetString());
        Assert.Equal(["latency", "errors"], body.RootElement.GetProperty("analysis").GetProperty("keywords").EnumerateArray().Select(k => k.GetString()));
    }

    [Fact]
    public async Task ProcessItem_WhenAFaultIsInjected_Answers500ProblemDetails_WithHeaders()
    {
        using var factory = new AgentWorkerFactory(new Dictionary<string, string?> { ["Worker:Faults:FailureRate"] = "1" });
        using var client = factory.CreateTestClient();

        using var response = await client.PostAsJsonAsync("/api/items", Items.Json("item-1"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        AssertAgentHeaders(factory, response);
        var problem = await ReadProblemAsync(response);
        Assert.Equal("Processing failed", problem.GetProperty("title").GetString());
        Assert.Equal("item-1", problem.GetProperty("itemId").GetString());
        Assert.Equal(nameof(ProcessingFailure.InjectedFault), problem.GetProperty("failure").GetString());
    }

    [Fact]
    public async Task UnhandledException_Answers500ProblemDetails_NotAnEmptyBody()
    {
        using var factory = new AgentWorkerFactory(configureServices: services =>
            services.AddSingleton<IWorkItemProcessor>(new ThrowingProcessor()));
        using var client = factory.CreateTestClient();

        using var response = await client.PostAsJsonAsync("/api/items", Items.Json("item-1"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        AssertAgentHeaders(factory, response);
        var problem = await ReadProblemAsync(response);
        Assert.Equal(500, problem.GetProperty("status").GetInt32());
        Assert.DoesNotContain("secret internals", problem.GetRawText(), StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string, HttpStatusCode> BadRequests => new()
    {
        { "/api/items", "application/json", "{ \"kind\": \"text\", ", HttpStatusCode.BadRequest },
        { "/api/items", "application/json", "null", HttpStatusCode.BadRequest },
        { "/api/items", "application/json", "", HttpStatusCode.BadRequest },
        { "/api/items", "application/json", "{ \"kind\": 5, \"payload\": { \"text\": \"x\" } }", HttpStatusCode.BadRequest },
        { "/api/items", "application/json", "{ \"payload\": { \"text\": \"x\" } }", HttpStatusCode.BadRequest },
        { "/api/items", "application/json", "{ \"kind\": \"text\", \"payload\": { \"text\": \"   \" } }", HttpStatusCode.BadRequest },
        { "/api/items", "text/plain", "{ \"kind\": \"text\", \"payload\": { \"text\": \"x\" } }", HttpStatusCode.UnsupportedMediaType },
        { "/api/items", "application/json", Oversized, HttpStatusCode.RequestEntityTooLarge },
        { "/api/items/batch", "application/json", "{ \"items\": [ { \"kind\": \"text\", \"payload\": { \"text\": \"x\" } }", HttpStatusCode.BadRequest },
        { "/api/items/batch", "application/json", "{ }", HttpStatusCode.BadRequest },
        { "/api/items/batch", "application/json", "{ \"items\": [] }", HttpStatusCode.BadRequest },
        { "/api/items/batch", "application/json", "{ \"items\": { \"kind\": \"text\" } }", HttpStatusCode.BadRequest },
        { "/api/items/batch", "application/json", TooManyItems, HttpStatusCode.BadRequest },
        { "/api/items/batch", "application/json", OneBadItemAmongGoodOnes, HttpStatusCode.BadRequest },
        { "/api/items/batch", "application/json", DuplicateIds, HttpStatusCode.BadRequest },
        { "/api/items/batch", "application/json", Oversized, HttpStatusCode.RequestEntityTooLarge },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadInput_AnswersProblemDetails_AndQueuesNothing(string path, string mediaType, string body, HttpStatusCode expected)
    {
        var processor = new GatedProcessor();
        using var factory = new AgentWorkerFactory(configureServices: services => services.AddSingleton<IWorkItemProcessor>(processor));
        using var client = factory.CreateTestClient();

        using var response = await client.PostAsync(path, new StringContent(body, Encoding.UTF8, mediaType));

        Assert.Equal(expected, response.StatusCode);
        AssertAgentHeaders(factory, response);
        var problem = await ReadProblemAsync(response);
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        Assert.Equal(0, factory.Queue.PendingCount);
        Assert.Empty(processor.Calls);
    }

    [Fact]
    public async Task OversizedChunkedBody_WithoutContentLength_Answers413()
    {
        using var factory = new AgentWorkerFactory();
        using var client = factory.CreateTestClient();
        using var content = new StreamContent(new UnknownLengthStream(Encoding.UTF8.GetBytes(Oversized)));
        content.Headers.ContentType = new("application/json");

        using var response = await client.PostAsync("/api/items/batch", content);

        Assert.Null(content.Headers.ContentLength);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(0, factory.Queue.PendingCount);
    }

    [Fact]
    public async Task BadInput_ReportsEachInvalidFieldByItsPath()
    {
        using var factory = new AgentWorkerFactory();
        using var client = factory.CreateTestClient();

        using var response = await client.PostAsync("/api/items/batch", Json(OneBadItemAmongGoodOnes));

        var problem = await ReadProblemAsync(response);
        var errors = problem.GetProperty("errors").EnumerateObject().Select(error => error.Name).ToArray();
        Assert.Equal(["items[1].kind", "items[1].payload.text"], errors.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task UnknownRoute_AnswersProblemDetails_WithHeaders()
    {
        using var factory = new AgentWorkerFactory();
        using var client = factory.CreateTestClient();

        using var response = await client.GetAsync("/api/nothing-here");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        AssertAgentHeaders(factory, response);
        Assert.Equal(404, (await ReadProblemAsync(response)).GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task EnqueueBatch_AcceptsItems_ProcessesEachOnce_AndReportsTheirStatus()
    {
        var processor = new GatedProcessor();
        using var factory = new AgentWorkerFactory(configureServices: services => services.AddSingleton<IWorkItemProcessor>(processor));
        using var client = factory.CreateTestClient();

        using var accepted = await client.PostAsJsonAsync("/api/items/batch", Items.Batch("a", "b", "c"));

        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        AssertAgentHeaders(factory, accepted);
        using (var body = JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()))
        {
            Assert.Equal(["a", "b", "c"], body.RootElement.GetProperty("ids").EnumerateArray().Select(id => id.GetString()));
        }

        await processor.WaitForEntryAsync();
        Assert.Contains(await StateAsync(client, "a"), new[] { "queued", "processing" });
        processor.Open();
        await Deadline.UntilAsync(
            async () => await StateAsync(client, "a") == "succeeded" && await StateAsync(client, "b") == "succeeded" && await StateAsync(client, "c") == "succeeded",
            "all three items succeeded");
        Assert.All(processor.Calls.Values, count => Assert.Equal(1, count));

        using var unknown = await client.GetAsync("/api/items/never-sent");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        await ReadProblemAsync(unknown);
    }

    [Fact]
    public async Task EnqueueBatch_WhenTheQueueIsFull_Answers429WithRetryAfter_AndQueuesNothing()
    {
        var processor = new GatedProcessor();
        using var factory = new AgentWorkerFactory(
            new Dictionary<string, string?> { ["Worker:Workers"] = "1", ["Worker:QueueCapacity"] = "3", ["Worker:MaxBatchSize"] = "3" },
            services => services.AddSingleton<IWorkItemProcessor>(processor));
        using var client = factory.CreateTestClient();

        // The only worker takes "held" and stays at the gate; then the queue fills up to two of three slots.
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/api/items/batch", Items.Batch("held"))).StatusCode);
        await processor.WaitForEntryAsync();
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/api/items/batch", Items.Batch("q1", "q2"))).StatusCode);

        using var refused = await client.PostAsJsonAsync("/api/items/batch", Items.Batch("r1", "r2"));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        AssertAgentHeaders(factory, refused);
        var problem = await ReadProblemAsync(refused);
        Assert.Equal(1, problem.GetProperty("freeSlots").GetInt32());
        Assert.Equal(2, factory.Queue.Count);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/items/r1")).StatusCode);

        // What fits is still taken: the refusal was about that batch, not a closed door.
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/api/items/batch", Items.Batch("r1"))).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.PostAsJsonAsync("/api/items/batch", Items.Batch("r2"))).StatusCode);

        processor.Open();
        await Deadline.UntilAsync(() => factory.Queue.PendingCount == 0, "the queue drained");
        Assert.Equal(["held", "q1", "q2", "r1"], processor.Calls.Keys.Order(StringComparer.Ordinal));
        Assert.All(processor.Calls.Values, count => Assert.Equal(1, count));
    }

    [Fact]
    public async Task EnqueueBatch_WithAnIdStillPending_Answers409_AndQueuesNothing()
    {
        var processor = new GatedProcessor();
        using var factory = new AgentWorkerFactory(configureServices: services => services.AddSingleton<IWorkItemProcessor>(processor));
        using var client = factory.CreateTestClient();
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/api/items/batch", Items.Batch("a"))).StatusCode);

        using var conflict = await client.PostAsJsonAsync("/api/items/batch", Items.Batch("b", "a"));

        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        var problem = await ReadProblemAsync(conflict);
        Assert.Equal(["a"], problem.GetProperty("ids").EnumerateArray().Select(id => id.GetString()));
        Assert.Equal(1, factory.Queue.PendingCount);
        processor.Open();
    }

    // Larger than the factory's 16 KiB body limit.
    private static string Oversized => "{ \"kind\": \"text\", \"payload\": { \"text\": \"" + new string('x', 20_000) + "\" } }";

    private const string OneBadItemAmongGoodOnes =
        "{ \"items\": [ { \"kind\": \"text\", \"payload\": { \"text\": \"ok\" } }, { \"kind\": \"\", \"payload\": { } }, { \"kind\": \"text\", \"payload\": { \"text\": \"ok\" } } ] }";

    private const string DuplicateIds =
        "{ \"items\": [ { \"id\": \"x\", \"kind\": \"text\", \"payload\": { \"text\": \"a\" } }, { \"id\": \"x\", \"kind\": \"text\", \"payload\": { \"text\": \"b\" } } ] }";

    private static string TooManyItems => JsonSerializer.Serialize(new { items = Enumerable.Range(0, 101).Select(i => Items.Json($"i{i}")) });

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<string?> StateAsync(HttpClient client, string id)
    {
        using var response = await client.GetAsync($"/api/items/{id}");
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return null;
        }

        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("state").GetString();
    }

    private static async Task<JsonElement> ReadProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.Clone();
    }

    private static void AssertAgentHeaders(AgentWorkerFactory factory, HttpResponseMessage response)
    {
        Assert.Equal(factory.Version, Assert.Single(response.Headers.GetValues(AgentHeaders.Version)));
        Assert.Equal(AgentWorkerFactory.Track, Assert.Single(response.Headers.GetValues(AgentHeaders.Track)));
    }

    private sealed class ThrowingProcessor : IWorkItemProcessor
    {
        public Task<WorkResult> ProcessAsync(WorkItem item, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("secret internals");
    }

    /// <summary>A stream that hides its length, so the request goes out chunked without Content-Length.</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
