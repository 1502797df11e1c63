using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Auth;

/// <summary>
/// Walks every endpoint the app maps, so that an endpoint added later cannot slip through unprotected: each mutating one
/// must refuse anonymous (401) and viewer (403) callers, and each read under /api must refuse anonymous callers.
/// </summary>
public sealed partial class EndpointAuthorizationTests(RolloutApiFactoryFixture fixture) : IClassFixture<RolloutApiFactoryFixture>
{
    private static readonly string[] MutatingMethods = [HttpMethods.Post, HttpMethods.Put, HttpMethods.Patch, HttpMethods.Delete];

    /// <summary>
    /// Writes a viewer may make by design: a gateway (which holds the viewer key) reports the routing revision it applies
    /// and says goodbye. They change no rollout, flag or route, only RolloutApi's list of who applied what.
    /// </summary>
    private static readonly string[] ViewerWrites = ["/api/routing/gateways/1"];

    /// <summary>
    /// Infrastructure, documentation and the rollout page's static files (it holds no data: it asks for a key and reads the
    /// API with it) are public by design; everything else needs a credential.
    /// </summary>
    private static readonly string[] AnonymousPrefixes = ["/health", "/alive", "/metrics", "/openapi", "/scalar", "/rollouts"];

    [Fact]
    public async Task Every_mutating_endpoint_refuses_anonymous_and_viewer_callers()
    {
        var mutating = Endpoints().Where(e => e.Methods.Any(m => MutatingMethods.Contains(m))).ToList();
        Assert.NotEmpty(mutating);
        using var anonymous = fixture.Factory.CreateClient(apiKey: null);
        using var viewer = fixture.Factory.Viewer();

        var failures = new List<string>();
        foreach (var (method, path) in mutating.SelectMany(e => e.Methods.Where(MutatingMethods.Contains).Select(m => (m, e.Path))))
        {
            using var asAnonymous = await SendAsync(anonymous, method, path);
            using var asViewer = await SendAsync(viewer, method, path);
            if (asAnonymous.StatusCode != HttpStatusCode.Unauthorized)
            {
                failures.Add($"{method} {path} as anonymous: {(int)asAnonymous.StatusCode}");
            }

            if (ViewerWrites.Contains(path))
            {
                // Allowed for viewers, but still not for anonymous callers (checked above).
                Assert.NotEqual(HttpStatusCode.Forbidden, asViewer.StatusCode);
            }
            else if (asViewer.StatusCode != HttpStatusCode.Forbidden)
            {
                failures.Add($"{method} {path} as viewer: {(int)asViewer.StatusCode}");
            }
        }

        Assert.Empty(failures);
    }

    [Fact]
    public async Task Every_endpoint_outside_the_public_allowlist_requires_a_credential()
    {
        var endpoints = Endpoints().Where(e => !AnonymousPrefixes.Any(p => e.Path.StartsWith(p, StringComparison.Ordinal))).ToList();
        Assert.Contains(endpoints, e => e.Path == "/api/routing");
        using var anonymous = fixture.Factory.CreateClient(apiKey: null);

        var failures = new List<string>();
        foreach (var endpoint in endpoints)
        {
            if (endpoint.Endpoint.Metadata.GetMetadata<IAuthorizeData>() is null || endpoint.Endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            {
                failures.Add($"{endpoint.Path} has no authorization requirement");
            }

            foreach (var method in endpoint.Methods)
            {
                using var response = await SendAsync(anonymous, method, endpoint.Path);
                if (response.StatusCode != HttpStatusCode.Unauthorized)
                {
                    failures.Add($"{method} {endpoint.Path} as anonymous: {(int)response.StatusCode}");
                }
            }
        }

        Assert.Empty(failures);
    }

    private List<(RouteEndpoint Endpoint, string Path, IReadOnlyList<string> Methods)> Endpoints()
    {
        var sources = fixture.Factory.Services.GetServices<EndpointDataSource>();
        return [.. sources.SelectMany(s => s.Endpoints).OfType<RouteEndpoint>().Select(e => (
            e,
            Concrete(e.RoutePattern.RawText ?? ""),
            e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? (IReadOnlyList<string>)[HttpMethods.Get]))];
    }

    /// <summary>Fills route parameters with values that would reach the handler if authorization let the call through.</summary>
    private static string Concrete(string pattern)
    {
        var path = RouteParameter().Replace(pattern, match => match.Groups[1].Value switch
        {
            "agent" => RolloutApiFactory.Agent,
            _ => "1",
        });
        return path.StartsWith('/') ? path : "/" + path;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (MutatingMethods.Contains(method))
        {
            request.Content = Json.Body("{}");
        }

        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(Deadline.Request);
    }

    [GeneratedRegex(@"\{\*{0,2}([^}:?=]+)[^}]*\}")]
    private static partial Regex RouteParameter();
}

/// <summary>One in-memory RolloutApi shared by a test class that only reads or is refused.</summary>
public sealed class RolloutApiFactoryFixture : IDisposable
{
    public RolloutApiFactory Factory { get; } = new();

    public void Dispose() => Factory.Dispose();
}
