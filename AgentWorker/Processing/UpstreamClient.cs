using System.Net.Http.Json;
using AgentAspire.Agent.Identity;
using AgentAspire.Contracts;
using AgentWorker.Configuration;
using AgentWorker.Telemetry;
using Microsoft.Extensions.Options;

namespace AgentWorker.Processing;

/// <summary>Posts a normalised item to <see cref="WorkerOptions.UpstreamUrl"/> and times the call into the duration histogram.</summary>
public sealed class UpstreamClient(
    IHttpClientFactory httpClientFactory,
    IOptions<WorkerOptions> options,
    AgentMetrics metrics,
    IAgentIdentity identity,
    TimeProvider timeProvider)
{
    /// <summary>The named HttpClient; it gets the service defaults (resilience, service discovery) like any other.</summary>
    public const string HttpClientName = "upstream";

    /// <summary>Calls the upstream when one is configured; null when none is.</summary>
    public async Task<UpstreamCallResult?> CallAsync(WorkItem item, CancellationToken cancellationToken)
    {
        if (options.Value.UpstreamUrl is not { } url)
        {
            return null;
        }

        // A client per call: the factory pools handlers, and a singleton holding one HttpClient would miss DNS changes.
        var client = httpClientFactory.CreateClient(HttpClientName);
        var started = timeProvider.GetTimestamp();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = JsonContent.Create(item, WorkItemJsonContext.Default.WorkItem),
            };
            // The agent says who calls, so an upstream (and the simulator's per-track faults) can tell the tracks apart.
            request.Headers.Add(AgentHeaders.Track, identity.Track);
            request.Headers.Add(AgentHeaders.Version, identity.Version);
            using var response = await client.SendAsync(request, cancellationToken);
            var elapsed = timeProvider.GetElapsedTime(started);
            metrics.ApiRequestCompleted(elapsed);
            if (!response.IsSuccessStatusCode)
            {
                throw new ProcessingException(
                    ProcessingFailure.UpstreamFailed,
                    $"The upstream answered {(int)response.StatusCode} {response.ReasonPhrase}.");
            }

            return new UpstreamCallResult((int)response.StatusCode, elapsed.TotalSeconds);
        }
        catch (Exception ex) when (ex is not ProcessingException && !cancellationToken.IsCancellationRequested)
        {
            // A call that failed without an answer (refused, reset, timed out) took time too, and dashboards should see it.
            metrics.ApiRequestCompleted(timeProvider.GetElapsedTime(started));
            throw new ProcessingException(ProcessingFailure.UpstreamFailed, $"The upstream call failed: {ex.Message}", ex);
        }
    }
}
