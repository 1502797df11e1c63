using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Identity;

public static class IdentityCheckServiceCollectionExtensions
{
    /// <summary>The served-by check, its options and its readiness check.</summary>
    public static IServiceCollection AddServedByCheck(this IServiceCollection services)
    {
        services.AddOptions<IdentityCheckOptions>().BindConfiguration(IdentityCheckOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IdentityCheckOptions>, IdentityCheckOptionsValidator>());
        services.AddSingleton<ServedByCheck>();
        services.AddHealthChecks().AddCheck<ServedByHealthCheck>(ServedByHealthCheck.Name);
        return services;
    }
}
