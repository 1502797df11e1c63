using System.Text.Json;
using System.Text.Json.Serialization;
using AgentAspire.Contracts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RolloutApi.Auth;
using RolloutApi.Catalog;
using RolloutApi.Drivers;
using RolloutApi.Drivers.Kubernetes;
using RolloutApi.Flags;
using RolloutApi.Hosting;
using RolloutApi.Http;
using RolloutApi.Live;
using RolloutApi.Rollouts;
using RolloutApi.Rollouts.Analysis;
using RolloutApi.Rollouts.Commands;
using RolloutApi.Rollouts.Infrastructure;
using RolloutApi.Rollouts.Reconciling;
using RolloutApi.Rollouts.Transitions;
using RolloutApi.Routing;
using RolloutApi.Storage;
using Scalar.AspNetCore;
using ServiceDefaults.Http;

namespace RolloutApi.Extensions;

/// <summary>RolloutApi's wiring: options, auth, storage, routing, drivers, the rollout engine and the HTTP pipeline.</summary>
public static class Extensions
{
    /// <summary>Every request this API takes is a small JSON document; 64 KiB leaves room for long step lists.</summary>
    public const long MaxRequestBodyBytes = 64 * 1024;

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);

        services.AddOptions<RolloutApiOptions>()
            .BindConfiguration(ConfigKeys.RolloutApi.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<AgentCatalogOptions>()
            .Configure<IConfiguration>((options, configuration) => configuration.GetSection(ConfigKeys.Agents.Section).Bind(options.Agents))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AgentCatalogOptions>, AgentCatalogOptionsValidator>());

        services.AddApiKeyAuthentication();
        services.AddStorage();
        services.AddRouting();
        services.AddTrackDrivers();
        // Registered always, chosen only by Drivers:Track=kubernetes; its client is built on first use.
        services.AddKubernetesTrackDriver(builder.Configuration);
        services.AddFlagsFeature();
        services.AddRollouts();
        services.AddLiveView();
        services.AddHttpApi();
        return builder;
    }

    /// <summary>Problem details for every error, the body size cap, then authentication and authorization.</summary>
    public static WebApplication UseApiPipeline(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRequestBodyLimit(MaxRequestBodyBytes);
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    /// <summary>The OpenAPI document at <c>/openapi/v1.json</c> and the Scalar UI at <c>/scalar</c>, in every environment.</summary>
    public static WebApplication MapApiDocumentation(this WebApplication app)
    {
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference().AllowAnonymous();
        return app;
    }

    private static void AddApiKeyAuthentication(this IServiceCollection services)
    {
        services.AddOptions<AuthOptions>()
            .Configure<IConfiguration>((options, configuration) => configuration.GetSection(ConfigKeys.Auth.ApiKeys).Bind(options.ApiKeys))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>());
        services.TryAddSingleton<ApiKeyValidator>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, configureOptions: null);
        services.AddAuthorizationBuilder()
            .AddPolicy(AuthPolicies.Viewer, policy => policy.RequireAuthenticatedUser().RequireRole(Roles.Viewer, Roles.Operator))
            .AddPolicy(AuthPolicies.Operator, policy => policy.RequireAuthenticatedUser().RequireRole(Roles.Operator));
    }

    private static void AddStorage(this IServiceCollection services)
    {
        services.TryAddSingleton<SqliteDatabase>();
        services.TryAddSingleton<SchemaMigrator>();
        services.TryAddSingleton<AgentStore>();
        services.TryAddSingleton<TransitionRecorder>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISchemaContributor, CoreSchema>());
        // Registered before any other hosted service: the schema and agents must exist before anything reads them.
        services.AddHostedService<DatabaseInitializer>();
    }

    private static void AddRouting(this IServiceCollection services)
    {
        services.TryAddSingleton<RoutingTableBroadcaster>();
        services.TryAddSingleton<GatewayRegistry>();
        services.TryAddSingleton<RoutingTableWriter>();
        services.TryAddSingleton<AgentQueries>();
    }

    private static void AddRollouts(this IServiceCollection services)
    {
        services.AddAnalysis();
        services.TryAddSingleton<RolloutStore>();
        services.TryAddSingleton<RolloutQueries>();
        services.TryAddSingleton<RevisionService>();
        services.TryAddSingleton<ReconcilerSignal>();
        // The engine: commands (operators), transition writers (one transaction each), the reconcile pass and the tracks.
        services.TryAddSingleton<RolloutCommands>();
        services.TryAddSingleton<UndoCommand>();
        services.TryAddSingleton<RouteCommands>();
        services.TryAddSingleton<RolloutTransitions>();
        services.TryAddSingleton<ReconcilePass>();
        services.TryAddSingleton<StepAnalysis>();
        services.TryAddSingleton<TrackConvergence>();
        services.TryAddSingleton<TrackInfrastructure>();
        services.TryAddSingleton<StableDrain>();
        services.TryAddSingleton<DriveGate>();
        // After DatabaseInitializer (registered in AddStorage): the first pass resumes whatever a crash interrupted.
        services.AddHostedService<RolloutReconciler>();
    }

    private static void AddHttpApi(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(options => ConfigureJson(options.SerializerOptions));
        // Malformed requests (bad JSON, no body, too large, a bad If-Match) are answered with problems that say what was wrong.
        services.AddHttpProblems();
        services.AddExceptionHandler<StorageUnavailableExceptionHandler>();
        services.AddOpenApi(options => options
            .AddDocumentTransformer<ApiKeySecuritySchemeTransformer>()
            .AddOperationTransformer<IfMatchHeaderTransformer>());
    }

    /// <summary>Strict input: unknown or duplicate members, numbers in strings and missing required members are errors.</summary>
    internal static void ConfigureJson(JsonSerializerOptions options)
    {
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.RespectNullableAnnotations = true;
        options.RespectRequiredConstructorParameters = true;
        options.AllowDuplicateProperties = false;
        // 32, not 16: the OpenAPI document is written with these options, and the analysis runs' schema nests deeper than 16.
        options.MaxDepth = 32;
    }
}
