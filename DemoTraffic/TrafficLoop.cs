using System.Net.Http.Json;
using System.Text.Json.Serialization;
using AgentAspire.Contracts;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace DemoTraffic;

/// <summary>The demo client's wiring: validated options, a plain HttpClient (no retries) and the loop.</summary>
public static class DemoTrafficExtensions
{
    public const string HttpClientName = "gateway";

    public static IHostApplicationBuilder AddDemoTraffic(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TrafficOptions>().BindConfiguration(TrafficOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        // A failed request is part of what the dashboard should show, not something to retry away.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is the documented opt-out; still marked experimental in 10.x.
        builder.Services.AddHttpClient(HttpClientName).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        builder.Services.AddHostedService<TrafficLoop>();
        return builder;
    }
}

/// <summary>
/// Sends work items through the gateway at a steady pace (one sticky client id per request, from a fixed pool) and now
/// and then a batch for the agents' queues, so every agent metric and the gateway's stats move in the dashboard.
/// </summary>
internal sealed partial class TrafficLoop(
    IHttpClientFactory httpClientFactory,
    IOptions<TrafficOptions> options,
    TimeProvider timeProvider,
    ILogger<TrafficLoop> logger) : BackgroundService
{
    private static readonly string[] Texts =
    [
        "The canary answered every request within budget while the weight rose to ten percent.",
        "Summarise the quarterly report: revenue grew, costs fell, and the new pipeline shipped on time.",
        "Classify this support ticket about a failed payment and suggest a reply to the customer.",
        "Extract the entities from this log line: gateway routed request to agent canary version 1.1.0.",
    ];

    private long _sent;
    private long _failed;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var client = httpClientFactory.CreateClient(DemoTrafficExtensions.HttpClientName);
        client.BaseAddress = settings.Target;
        Log.Starting(logger, settings.Target, settings.RequestsPerSecond);

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1 / settings.RequestsPerSecond), timeProvider);
        var reportEvery = Math.Max(1, (long)(settings.RequestsPerSecond * 60));
        long tick = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                tick++;
                // Open loop: each request runs on its own, so a slow track does not slow the pace.
                _ = SendAsync(client, tick, settings, stoppingToken);
                if (tick % reportEvery == 0)
                {
                    Log.Progress(logger, Interlocked.Read(ref _sent), Interlocked.Read(ref _failed));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task SendAsync(HttpClient client, long tick, TrafficOptions settings, CancellationToken cancellationToken)
    {
        try
        {
            var batch = settings.BatchEvery > 0 && tick % settings.BatchEvery == 0;
            using var request = new HttpRequestMessage(HttpMethod.Post, batch ? "/api/items/batch" : "/api/items")
            {
                Content = batch
                    ? JsonContent.Create(new BatchBody([.. Enumerable.Range(0, settings.BatchSize).Select(i => Item($"demo-b{tick}-{i}", tick + i))]), TrafficJsonContext.Default.BatchBody)
                    : JsonContent.Create(Item($"demo-{tick}", tick), TrafficJsonContext.Default.ItemBody),
            };
            request.Headers.Add(AgentHeaders.ClientId, $"demo-{tick % settings.Clients}");
            using var response = await client.SendAsync(request, cancellationToken);
            Interlocked.Increment(ref _sent);
            if (!response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref _failed);
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _failed);
            Log.SendFailed(logger, ex.Message);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private static ItemBody Item(string id, long n) => new(id, "text", new PayloadBody(Texts[n % Texts.Length], ["demo"]));

    private static partial class Log
    {
        [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "Demo traffic to {Target} at {Rate} request(s)/s")]
        public static partial void Starting(ILogger logger, Uri target, double rate);

        [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Demo traffic: {Sent} sent, {Failed} not successful so far")]
        public static partial void Progress(ILogger logger, long sent, long failed);

        [LoggerMessage(EventId = 6002, Level = LogLevel.Debug, Message = "Demo request failed: {Reason}")]
        public static partial void SendFailed(ILogger logger, string reason);
    }
}

internal sealed record PayloadBody(string Text, string[] Tags);

internal sealed record ItemBody(string Id, string Kind, PayloadBody Payload);

internal sealed record BatchBody(ItemBody[] Items);

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ItemBody))]
[JsonSerializable(typeof(BatchBody))]
internal sealed partial class TrafficJsonContext : JsonSerializerContext;
