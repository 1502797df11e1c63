using System.Security.Claims;

namespace RolloutApi.Auth;

/// <summary>Who the audit log says did something: the authenticated key's name.</summary>
public static class Actor
{
    public static string Of(ClaimsPrincipal user) => user.Identity?.Name is { Length: > 0 } name ? name : "anonymous";
}
