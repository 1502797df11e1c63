using System.Collections.Frozen;
using System.Security.Cryptography;

namespace RolloutApi.Page;

/// <summary>
/// The rollout page at <c>/rollouts</c>: a static page (HTML, CSS and two scripts, embedded in the assembly, nothing from
/// the internet) that asks for an API key and reads everything else through the authenticated API. The page itself is
/// anonymous; it holds no data.
/// </summary>
public static class PageEndpoints
{
    public const string PagePath = "/rollouts";

    // Scripts and styles only from here, no inline script, no framing: the page handles an operator key.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, Asset> Assets = LoadAssets();

    public static IEndpointRouteBuilder MapRolloutPage(this IEndpointRouteBuilder app)
    {
        var page = app.MapGroup(PagePath).WithTags("Page").AllowAnonymous().ExcludeFromDescription();
        page.MapGet("", (HttpContext context) => Serve(context, "index.html")).WithName("RolloutPage");
        page.MapGet("/{file}", (string file, HttpContext context) => Serve(context, file)).WithName("RolloutPageAsset");
        return app;
    }

    private static IResult Serve(HttpContext context, string file)
    {
        if (!Assets.TryGetValue(file, out var asset))
        {
            return TypedResults.NotFound();
        }

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        // Revalidate every time (cheap with the ETag) so that a new RolloutApi never runs with an old script.
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return TypedResults.Bytes(asset.Content, asset.ContentType);
    }

    private static FrozenDictionary<string, Asset> LoadAssets()
    {
        const string prefix = "RolloutApi.Page.wwwroot.";
        var assembly = typeof(PageEndpoints).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var file = name[prefix.Length..];
            var type = Path.GetExtension(file) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            assets[file] = new Asset(content, type, $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\"");
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private sealed record Asset(byte[] Content, string ContentType, string ETag);
}
