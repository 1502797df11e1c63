using AgentAspire.Contracts;
using Microsoft.Extensions.Options;
using RolloutApi.Hosting;

namespace RolloutApi.Auth;

/// <summary>API keys by name (section <c>Auth:ApiKeys:{name}</c>, each with a <c>Key</c> and a <c>Role</c>).</summary>
public sealed class AuthOptions
{
    public Dictionary<string, ApiKeyOptions> ApiKeys { get; } = new(StringComparer.Ordinal);
}

/// <summary>One credential: the secret and the role it grants (<c>viewer</c> or <c>operator</c>).</summary>
public sealed class ApiKeyOptions
{
    public string Key { get; set; } = "";

    public string Role { get; set; } = "";
}

/// <summary>Refuses keys that are empty, roles that do not exist, and one secret granting two roles.</summary>
internal sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var failures = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (keyName, key) in options.ApiKeys)
        {
            var prefix = ConfigKeys.Auth.ApiKey(keyName);
            if (string.IsNullOrWhiteSpace(key.Key))
            {
                failures.Add($"{prefix}:Key must not be empty.");
            }
            else if (!seen.Add(key.Key))
            {
                failures.Add($"{prefix}:Key is also configured under another name; each credential must be unique.");
            }

            if (!Roles.IsKnown(key.Role))
            {
                failures.Add($"{prefix}:Role must be '{Roles.Viewer}' or '{Roles.Operator}'.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
