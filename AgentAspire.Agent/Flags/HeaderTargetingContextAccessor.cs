using AgentAspire.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.FeatureManagement.FeatureFilters;

namespace AgentAspire.Agent.Flags;

/// <summary>
/// The targeting context of the current request for <see cref="FlagFilterNames.Targeting"/> and variant allocation: the
/// user from <c>X-User</c>, the tenant(s) from <c>X-Tenant</c> as groups. Outside a request it is an anonymous context
/// (no user, no groups), so background work evaluates audiences consistently instead of logging a warning each time.
/// </summary>
internal sealed class HeaderTargetingContextAccessor(IHttpContextAccessor httpContextAccessor) : ITargetingContextAccessor
{
    private static readonly object ItemKey = new();
    private static readonly TargetingContext Anonymous = new() { Groups = [] };

    public ValueTask<TargetingContext> GetContextAsync()
    {
        if (httpContextAccessor.HttpContext is not { } http)
        {
            return ValueTask.FromResult(Anonymous);
        }

        if (http.Items.TryGetValue(ItemKey, out var cached) && cached is TargetingContext known)
        {
            return ValueTask.FromResult(known);
        }

        var context = FromHeaders(http.Request.Headers);
        http.Items[ItemKey] = context;
        return ValueTask.FromResult(context);
    }

    public static TargetingContext FromHeaders(IHeaderDictionary headers)
    {
        var user = headers[FlagTargetingHeaders.User].ToString().Trim();
        var tenants = new List<string>();
        foreach (var value in headers[FlagTargetingHeaders.Tenant])
        {
            foreach (var tenant in (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                tenants.Add(tenant);
            }
        }

        return new TargetingContext
        {
            UserId = user.Length == 0 ? null : user,
            Groups = tenants,
        };
    }
}
