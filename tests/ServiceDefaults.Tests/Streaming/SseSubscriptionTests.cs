using System.Net;
using System.Net.ServerSentEvents;
using System.Text;
using ServiceDefaults.Streaming;

namespace ServiceDefaults.Tests.Streaming;

/// <summary>The one SSE subscription loop the gateway's routing stream and the agents' flag stream share.</summary>
public sealed class SseSubscriptionTests
{
    [Fact]
    public async Task Items_reach_the_subscriber_in_order_and_only_the_first_of_a_connection_is_first()
    {
        var subscriber = new RecordingSubscriber();
        using var client = new HttpClient(new StaticHandler(HttpStatusCode.OK,
            ": keep-alive\n\nevent: other\ndata: skipped\n\nevent: item\nid: 1\ndata: one\n\nevent: item\nid: 2\ndata: two\n\n"));

        var result = await subscriber.RunUntilFirstEndAsync(client);

        Assert.Equal([("one", "1", true), ("two", "2", false)], subscriber.Items);
        Assert.Equal(new SseConnectionResult(true, SseConnectionEnd.Completed, null), result);
        Assert.True(subscriber.Activity > 0);
    }

    [Fact]
    public async Task A_refused_request_ends_the_connection_as_failed_with_the_status_and_nothing_delivered()
    {
        var subscriber = new RecordingSubscriber();
        using var client = new HttpClient(new StaticHandler(HttpStatusCode.Unauthorized, ""));

        var result = await subscriber.RunUntilFirstEndAsync(client);

        Assert.False(result.Delivered);
        Assert.Equal(SseConnectionEnd.Failed, result.End);
        Assert.Equal(HttpStatusCode.Unauthorized, Assert.IsType<HttpRequestException>(result.Error).StatusCode);
        Assert.Empty(subscriber.Items);
    }

    private sealed class RecordingSubscriber : ISseSubscriber<string>
    {
        private readonly TaskCompletionSource<SseConnectionResult> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<(string Data, string? Id, bool First)> Items { get; } = [];

        public int Activity { get; private set; }

        public async Task<SseConnectionResult> RunUntilFirstEndAsync(HttpClient client)
        {
            using var stop = new CancellationTokenSource();
            var options = new SseSubscriptionOptions { ReconnectDelay = TimeSpan.FromMinutes(1), MaxReconnectDelay = TimeSpan.FromMinutes(1) };
            var run = new SseSubscription<string>(client, options, TimeProvider.System, new Random(7)).RunAsync(this, stop.Token);
            var result = await _ended.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(10));
            return result;
        }

        public HttpRequestMessage CreateRequest() => new(HttpMethod.Get, "http://stream.test/events");

        public string? Parse(string eventType, ReadOnlySpan<byte> data) =>
            eventType == "item" ? Encoding.UTF8.GetString(data) : null;

        public bool OnItem(SseItem<string> item, bool firstOnConnection)
        {
            Items.Add((item.Data, item.EventId, firstOnConnection));
            return true;
        }

        public void OnActivity() => Activity++;

        public void OnConnectionEnded(SseConnectionResult result) => _ended.TrySetResult(result);
    }

    private sealed class StaticHandler(HttpStatusCode status, string body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "text/event-stream") });
    }
}
