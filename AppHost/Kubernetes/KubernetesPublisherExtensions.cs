using AppHost;
using System.Reflection;
using AppHost.Kubernetes;
using Aspire.Hosting.Pipelines;
using Aspire.Hosting.Publishing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

// Aspire's own convention: builder extensions live in Aspire.Hosting, so AppHost.cs needs no extra using.
namespace Aspire.Hosting;

/// <summary>Adds the Kubernetes publisher to the AppHost: <c>--operation publish --step publish --output-path DIR</c>.</summary>
public static class KubernetesPublisherExtensions
{
    /// <summary>The registry images are pulled from when the <c>image-registry</c> parameter is not given.</summary>
    public const string DefaultImageRegistry = "agentaspire";

    /// <summary>
    /// Registers the <see cref="KubernetesPublishStep"/> (required by the well-known publish step), its options from
    /// the <c>Kubernetes</c> section, and in publish mode the <c>image-registry</c> and <c>image-tag</c> parameters.
    /// </summary>
    public static IDistributedApplicationBuilder AddKubernetesPublisher(this IDistributedApplicationBuilder builder)
    {
        // Validated when the step runs, not at start (no ValidateOnStart): a bad publish setting must not stop a local run.
        builder.Services.AddOptions<KubernetesPublishOptions>().BindConfiguration(KubernetesPublishOptions.SectionName);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KubernetesPublishOptions>, KubernetesPublishOptionsValidator>());

        if (!builder.ExecutionContext.IsPublishMode)
        {
            // The parameters only mean something to a publish; in a local run they would be dashboard clutter.
            return builder;
        }

        // A ParameterDefault, not a constant value: a constant would ignore --Parameters:image-tag=... .
        var registry = builder.AddParameter(KubernetesParameterNames.ImageRegistry, new OverridableParameterDefault(DefaultImageRegistry));
        var tag = builder.AddParameter(KubernetesParameterNames.ImageTag, new OverridableParameterDefault(DefaultImageTag()));
        var step = new KubernetesPublishStep(registry, tag);
        builder.Pipeline.AddStep(
            KubernetesPublishStep.Name,
            step.ExecuteAsync,
            dependsOn: WellKnownPipelineSteps.ProcessParameters,
            requiredBy: WellKnownPipelineSteps.Publish);
        return builder;
    }

    /// <summary>
    /// The AppHost's version (<c>1.0.0</c> unless the build sets one): the tag <c>dotnet publish /t:PublishContainer</c>
    /// gives images by default. Build metadata (<c>+sha</c>) is dropped: a tag cannot contain '+'.
    /// </summary>
    private static string DefaultImageTag()
    {
        var version = typeof(KubernetesPublisherExtensions).Assembly
            .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.0";
        return version.Split('+')[0];
    }
}
