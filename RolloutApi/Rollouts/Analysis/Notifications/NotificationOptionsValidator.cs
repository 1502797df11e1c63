using Microsoft.Extensions.Options;

namespace RolloutApi.Rollouts.Analysis.Notifications;

/// <summary>Each webhook has an absolute http(s) URL and a secret of at least 16 characters; checked on start.</summary>
internal sealed class NotificationOptionsValidator : IValidateOptions<NotificationOptions>
{
    public ValidateOptionsResult Validate(string? name, NotificationOptions options)
    {
        var failures = new List<string>();
        foreach (var (webhook, target) in options.Webhooks)
        {
            if (target?.Url is not { IsAbsoluteUri: true } url || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            {
                failures.Add($"{NotificationOptions.SectionName}:Webhooks:{webhook}:Url must be an absolute http(s) URL.");
            }

            if (target is null || target.Secret.Length < 16)
            {
                failures.Add($"{NotificationOptions.SectionName}:Webhooks:{webhook}:Secret must be at least 16 characters (the HMAC key).");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
