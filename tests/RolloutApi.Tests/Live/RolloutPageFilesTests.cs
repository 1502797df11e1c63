using System.Net;
using RolloutApi.Tests.Auth;

namespace RolloutApi.Tests.Live;

/// <summary>The page's files: served from the assembly with a strict policy, anonymously, and nothing else under its path.</summary>
public sealed class RolloutPageFilesTests(RolloutApiFactoryFixture fixture) : IClassFixture<RolloutApiFactoryFixture>
{
    [Theory]
    [InlineData("/rollouts", "text/html")]
    [InlineData("/rollouts/page.js", "text/javascript")]
    [InlineData("/rollouts/charts.js", "text/javascript")]
    [InlineData("/rollouts/page.css", "text/css")]
    public async Task The_page_and_its_assets_are_served_anonymously_with_a_self_only_policy(string path, string contentType)
    {
        using var client = fixture.Factory.CreateClient(apiKey: null);
        using var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(contentType, response.Content.Headers.ContentType?.MediaType);
        var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.NotEmpty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task An_unknown_file_is_a_404_and_the_live_stream_needs_a_key()
    {
        using var anonymous = fixture.Factory.CreateClient(apiKey: null);
        using var missing = await anonymous.GetAsync("/rollouts/secrets.json");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var live = await anonymous.GetAsync("/api/agents/agent-worker/live");
        Assert.Equal(HttpStatusCode.Unauthorized, live.StatusCode);
    }
}
