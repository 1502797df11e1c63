using System.Net;
using AgentAspire.Contracts;
using AgentAspire.TestSupport;
using RolloutApi.Rollouts;
using RolloutApi.Tests.Durability;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Faults;

/// <summary>The fault tests' common start: a new revision rolled out to one weight step and held there, applied by the gateways.</summary>
internal static class HeldRollout
{
    private const string AgentPath = $"/api/agents/{RolloutApiFactory.Agent}";

    /// <summary>Creates revision 2.0.0, starts a rollout held at <paramref name="weight"/> (basis points) and waits until
    /// RolloutApi reports all <paramref name="gateways"/> known gateways applied it.</summary>
    public static async Task StartAsync(HttpClient client, int weight, int gateways, string what)
    {
        using var revision = await client.PostAsync($"{AgentPath}/revisions", Json.Body("""{"version": "2.0.0"}""")).WaitAsync(Deadline.Request);
        var number = (await revision.ReadAsync<RevisionView>()).Number;
        using var started = await client.PostAsync($"{AgentPath}/rollouts",
            Json.Body($$$"""{"revision": {{{number}}}, "steps": [{"setWeight": {{{weight}}}}, {"pause": {}}]}""")).WaitAsync(Deadline.Request);
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        await Deadline.PollAsync(async () => await (await client.GetAsync($"{AgentPath}/rollout").WaitAsync(Deadline.Request)).ReadAsync<RolloutStatus>(),
            r => r.Weight == weight && r.Gateways is { AllApplied: true } applied && applied.Known == gateways, TimeSpan.FromSeconds(30), what);
    }
}
