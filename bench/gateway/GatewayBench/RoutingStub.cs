using System.Text.Json;
using System.Threading.Channels;
using AgentAspire.Contracts;

namespace GatewayBench;

/// <summary>
/// A stand-in for RolloutApi's routing surface: the SSE stream (current table first, every change after, a keep-alive
/// comment every 15 s), the snapshot, and <c>PUT /api/agents/{agent}/weight</c>, which answers once the new table is
/// handed to every open stream — the same moment RolloutApi's PUT returns (after commit, publish never waits).
/// </summary>
internal static class RoutingStub
{
    public static async Task<int> RunAsync(Arguments args)
    {
        var port = args.Int("port", 18095);
        var agent = args.Get("agent", ResourceNames.DefaultAgent);
        var state = new StubState(agent, args.Int("weight", 0));

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.WebHost.UseShutdownTimeout(TimeSpan.FromSeconds(1));
        var app = builder.Build();

        app.MapGet(RolloutApiPaths.Routing, () => Results.Text(JsonSerializer.Serialize(state.Current), "application/json"));
        app.MapGet(RolloutApiPaths.RoutingStream, state.StreamAsync);
        app.MapPut("/api/agents/{name}/weight", async (string name, WeightBody body) =>
        {
            if (name != agent || !Weights.IsValid(body.Weight))
            {
                return Results.Problem(statusCode: 400, title: "bad agent or weight");
            }

            var table = await state.SetWeightAsync(body.Weight);
            return Results.Text(JsonSerializer.Serialize(table.Agents[0]), "application/json");
        });

        Console.WriteLine($"routing stub on http://127.0.0.1:{port} (agent {agent}, weight {state.Current.Agents[0].Weight})");
        await app.RunAsync();
        return 0;
    }

    internal sealed record WeightBody(int Weight);

    private sealed class StubState(string agent, int weight)
    {
        private readonly Lock _gate = new();
        private readonly List<Channel<RoutingTable>> _subscribers = [];

        public RoutingTable Current { get; private set; } = Table(agent, 1, weight);

        public async Task<RoutingTable> SetWeightAsync(int newWeight)
        {
            Channel<RoutingTable>[] subscribers;
            RoutingTable table;
            lock (_gate)
            {
                table = Table(agent, Current.Revision + 1, newWeight);
                Current = table;
                subscribers = [.. _subscribers];
            }

            foreach (var subscriber in subscribers)
            {
                await subscriber.Writer.WriteAsync(table);
            }

            return table;
        }

        public async Task StreamAsync(HttpContext context)
        {
            var channel = Channel.CreateUnbounded<RoutingTable>(new UnboundedChannelOptions { SingleReader = true });
            RoutingTable first;
            lock (_gate)
            {
                first = Current;
                _subscribers.Add(channel);
            }

            var ct = context.RequestAborted;
            try
            {
                context.Response.ContentType = "text/event-stream";
                context.Response.Headers.CacheControl = "no-cache";
                await WriteAsync(context.Response, first, ct);
                while (!ct.IsCancellationRequested)
                {
                    using var heartbeat = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    heartbeat.CancelAfter(TimeSpan.FromSeconds(15));
                    try
                    {
                        var table = await channel.Reader.ReadAsync(heartbeat.Token);
                        await WriteAsync(context.Response, table, ct);
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        await context.Response.WriteAsync(": keep-alive\n\n", ct);
                        await context.Response.Body.FlushAsync(ct);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // The gateway went away.
            }
            finally
            {
                lock (_gate)
                {
                    _subscribers.Remove(channel);
                }
            }
        }

        private static async Task WriteAsync(HttpResponse response, RoutingTable table, CancellationToken ct)
        {
            await response.WriteAsync($"event: {RolloutApiPaths.RoutingEventName}\nid: {table.Revision}\ndata: {JsonSerializer.Serialize(table)}\n\n", ct);
            await response.Body.FlushAsync(ct);
        }

        private static RoutingTable Table(string agent, long revision, int weight) => new(revision,
        [
            new AgentRoute(agent, weight,
                new TrackRoute($"http://{ResourceNames.AgentStable}", "1.0.0"),
                new TrackRoute($"http://{ResourceNames.AgentCanary}", "1.1.0"),
                revision),
        ]);
    }
}
