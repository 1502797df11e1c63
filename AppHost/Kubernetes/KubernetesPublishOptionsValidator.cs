using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace AppHost.Kubernetes;

/// <summary>Checks the options' data annotations and cross-field rules, reporting every problem at once.</summary>
public sealed class KubernetesPublishOptionsValidator : IValidateOptions<KubernetesPublishOptions>
{
    public ValidateOptionsResult Validate(string? name, KubernetesPublishOptions options)
    {
        var results = new List<ValidationResult>();
        return Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(results.Select(r => r.ErrorMessage ?? "Invalid Kubernetes publish option."));
    }
}
