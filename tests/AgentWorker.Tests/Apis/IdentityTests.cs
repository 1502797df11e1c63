using System.Net;
using System.Net.Http.Json;
using AgentAspire.Agent.Flags;
using AgentAspire.Agent.Identity;
using AgentAspire.Contracts;
using AgentWorker.Tests.Support;

namespace AgentWorker.Tests.Apis;

/// <summary>The agent says who it is — on every response and at <c>/identity</c> — through ServiceDefaults.</summary>
public sealed class IdentityTests
{
    [Fact]
    public async Task Identity_names_agent_track_version_revision_build_and_this_process()
    {
        using var factory = new AgentWorkerFactory(new Dictionary<string, string?>
        {
            ["Agent:Revision"] = "7",
            ["Agent:Build"] = "sha256-abc123",
        });
        using var client = factory.CreateTestClient();

        using var response = await client.GetAsync(AgentIdentityEndpoints.IdentityPath);
        var identity = await response.Content.ReadFromJsonAsync<AgentIdentityDocument>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((AgentWorkerFactory.Agent, AgentWorkerFactory.Track, factory.Version, (int?)7, "sha256-abc123", Environment.ProcessId),
            (identity!.Agent, identity.Track, identity.Version, identity.Revision, identity.Build, identity.ProcessId));
        Assert.Contains($"/{Environment.ProcessId}/", identity.Instance, StringComparison.Ordinal);
        // The same identity on the response headers, for callers that never ask /identity.
        Assert.Equal(identity.Instance, Assert.Single(response.Headers.GetValues(AgentHeaders.Instance)));
        Assert.Equal("7", Assert.Single(response.Headers.GetValues(AgentHeaders.Revision)));
        Assert.Equal("sha256-abc123", Assert.Single(response.Headers.GetValues(AgentHeaders.Build)));
        Assert.Equal(AgentWorkerFactory.Agent, Assert.Single(response.Headers.GetValues(AgentHeaders.Agent)));
    }

    [Fact]
    public async Task Without_a_stored_build_the_build_is_the_compilations_module_id_and_errors_carry_the_identity_too()
    {
        using var factory = new AgentWorkerFactory();
        using var client = factory.CreateTestClient();

        using var missing = await client.GetAsync("/no-such-path");

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(AgentWorkerFactory.Track, Assert.Single(missing.Headers.GetValues(AgentHeaders.Track)));
        var build = Assert.Single(missing.Headers.GetValues(AgentHeaders.Build));
        Assert.Matches("^[0-9a-f]{12}$", build);
        Assert.False(missing.Headers.Contains(AgentHeaders.Revision), "no revision is known, so none is claimed");
    }

    [Fact]
    public async Task Identity_flags_says_which_flags_are_in_force_and_whether_the_stream_is_open()
    {
        // No RolloutApi answers here: the agent serves the flags it ships, and says so.
        using var factory = new AgentWorkerFactory();
        using var client = factory.CreateTestClient();

        using var response = await client.GetAsync(AgentPaths.Flags);
        var flags = await response.Content.ReadFromJsonAsync<AgentFlagStatus>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(("Defaults", 0L, (int?)null, false, 0L), (flags!.Source, flags.Version, flags.Revision, flags.Connected, flags.Connections));
        // Status only: the definitions (targeting lists may name users) are not shown to whoever reaches the agent.
        Assert.DoesNotContain("feature_flags", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(AgentWorkerFactory.Track, Assert.Single(response.Headers.GetValues(AgentHeaders.Track)));
    }
}
