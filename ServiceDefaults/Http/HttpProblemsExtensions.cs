using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ServiceDefaults.Http;

/// <summary>Wires <see cref="BadRequestProblems"/> into a service: problem details for every malformed request.</summary>
public static class HttpProblemsExtensions
{
    /// <summary>
    /// Problem details, and the handler that answers malformed requests (and <see cref="ProblemException"/>) with them. Binding
    /// failures throw (<c>ThrowOnBadRequest</c>) so that the handler can say what was wrong instead of an empty 400.
    /// </summary>
    public static IServiceCollection AddHttpProblems(this IServiceCollection services)
    {
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.AddExceptionHandler<ProblemExceptionHandler>();
        return services;
    }
}
