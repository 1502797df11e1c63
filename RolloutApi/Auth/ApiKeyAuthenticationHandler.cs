using System.Security.Claims;
using System.Text.Encodings.Web;
using AgentAspire.Contracts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace RolloutApi.Auth;

/// <summary>
/// Authenticates <c>X-Api-Key: &lt;key&gt;</c> or <c>Authorization: Bearer &lt;key&gt;</c> against the configured keys; the
/// principal's name is the key's name (the audit log's actor) and its role claim the key's role.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyValidator keys,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    private const string BearerPrefix = "Bearer ";
    private const string Realm = "rollout-api";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = ReadCredential(Request);
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var identity = keys.Validate(presented);
        if (identity is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("The credential does not match any configured API key."));
        }

        var claims = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, identity.Name), new Claim(ClaimTypes.Role, identity.Role)],
            SchemeName,
            ClaimTypes.Name,
            ClaimTypes.Role);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(claims), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.Append(HeaderNames.WWWAuthenticate, $"Bearer realm=\"{Realm}\"");
        Response.Headers.Append(HeaderNames.WWWAuthenticate, $"ApiKey realm=\"{Realm}\", header=\"{AgentHeaders.ApiKey}\"");
        await WriteProblemAsync(
            "Authentication required",
            $"Send an API key as '{AgentHeaders.ApiKey}: <key>' or 'Authorization: Bearer <key>'.");
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await WriteProblemAsync("Forbidden", "This credential's role does not allow this operation; mutations need an operator key.");
    }

    /// <summary>The presented secret, or null when the request carries none (an empty value counts as none).</summary>
    internal static string? ReadCredential(HttpRequest request)
    {
        var apiKey = request.Headers[AgentHeaders.ApiKey];
        if (apiKey.Count == 1 && !string.IsNullOrEmpty(apiKey[0]))
        {
            return apiKey[0];
        }

        var authorization = request.Headers.Authorization;
        if (authorization.Count == 1
            && authorization[0] is { } value
            && value.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase)
            && value.Length > BearerPrefix.Length)
        {
            return value[BearerPrefix.Length..].Trim();
        }

        return null;
    }

    private Task WriteProblemAsync(string title, string detail) =>
        problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails { Status = Response.StatusCode, Title = title, Detail = detail },
        }).AsTask();
}
