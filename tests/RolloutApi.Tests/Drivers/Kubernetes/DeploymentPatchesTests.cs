using System.Text.Json.Nodes;
using RolloutApi.Drivers;
using RolloutApi.Drivers.Kubernetes;

namespace RolloutApi.Tests.Drivers.Kubernetes;

/// <summary>Image references and the edge cases of the revision patch.</summary>
public sealed class DeploymentPatchesTests
{
    [Theory]
    [InlineData("agentworker:1.0", "agentworker")]
    [InlineData("agentworker", "agentworker")]
    [InlineData("registry.example.com/team/agentworker:1.0", "registry.example.com/team/agentworker")]
    [InlineData("registry.local:5000/agentworker:1.0", "registry.local:5000/agentworker")]
    [InlineData("registry.local:5000/agentworker", "registry.local:5000/agentworker")]
    [InlineData("registry.local:5000/agentworker:1.0@sha256:0123abcd", "registry.local:5000/agentworker")]
    [InlineData("registry.local/agentworker@sha256:0123abcd", "registry.local/agentworker")]
    public void The_repository_is_the_image_without_tag_or_digest(string image, string repository) =>
        Assert.Equal(repository, DeploymentPatches.RepositoryOf(image));

    [Theory]
    [InlineData("1.4.2", "r.example.com/a:1.4.2")]
    [InlineData("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "r.example.com/a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void A_tag_is_appended_with_a_colon_and_a_digest_with_an_at_sign(string tagOrDigest, string image) =>
        Assert.Equal(image, DeploymentPatches.ImageOf("r.example.com/a", tagOrDigest));

    [Fact]
    public void A_version_that_cannot_be_a_label_removes_the_stale_label_and_still_sets_the_variable()
    {
        var revision = new RevisionSpec("agent-worker", 7, "1.2.0+build.5", "1.2.0-build.5");

        var patch = JsonNode.Parse(DeploymentPatches.ForRevision(revision, "agent-canary", "r/a:1.2.0-build.5", "Agent__Version", replicas: null))!;

        var labels = patch["metadata"]!["labels"]!.AsObject();
        Assert.True(labels.ContainsKey("app.kubernetes.io/version"));
        Assert.Null(labels["app.kubernetes.io/version"]);
        Assert.Null(patch["spec"]!["template"]!["metadata"]!["labels"]!["app.kubernetes.io/version"]);
        Assert.Equal("1.2.0+build.5", patch["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]![0]!["value"]!.GetValue<string>());
        Assert.False(patch["spec"]!.AsObject().ContainsKey("replicas"));
    }
}
