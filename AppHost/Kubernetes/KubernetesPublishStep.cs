using System.Reflection;
using AppHost.Kubernetes.Manifests;
using Aspire.Hosting.Pipelines;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AppHost.Kubernetes;

/// <summary>
/// The pipeline step that writes the Kubernetes manifests to the pipeline's output path. Everything is checked and
/// rendered in memory first, so a refused publish (a <c>latest</c> tag, a bad option) writes no file at all.
/// </summary>
public sealed partial class KubernetesPublishStep(IResourceBuilder<ParameterResource> imageRegistry, IResourceBuilder<ParameterResource> imageTag)
{
    public const string Name = "publish-kubernetes";

    public async Task ExecuteAsync(PipelineStepContext context)
    {
        var outputDirectory = context.Services.GetRequiredService<IPipelineOutputService>().GetOutputDirectory();
        try
        {
            var files = await RenderAsync(context);
            Directory.CreateDirectory(outputDirectory);
            foreach (var (fileName, content) in files)
            {
                await File.WriteAllTextAsync(Path.Combine(outputDirectory, fileName), content, context.CancellationToken);
            }

            Log.ManifestsWritten(context.Logger, files.Count, outputDirectory);
            context.Summary.Add("Kubernetes manifests", outputDirectory);
        }
        catch (KubernetesPublishException ex)
        {
            MarkProcessFailed();
            throw new KubernetesPublishException($"Kubernetes manifests were not written to {outputDirectory}: {ex.Message}", ex);
        }
        catch
        {
            MarkProcessFailed();
            throw;
        }
    }

    /// <summary>Every file's content, or a <see cref="KubernetesPublishException"/> before any is written.</summary>
    private async Task<IReadOnlyList<(string FileName, string Content)>> RenderAsync(PipelineStepContext context)
    {
        var options = ValidatedOptions(context.Services);
        var configuration = context.Services.GetRequiredService<IConfiguration>();
        var images = new ContainerImages(
            await GetImageParameterAsync(imageRegistry.Resource, configuration, context.CancellationToken),
            await GetImageParameterAsync(imageTag.Resource, configuration, context.CancellationToken));
        var manifest = await new KubernetesManifestBuilder(options, images)
            .BuildAsync(context.Model, context.ExecutionContext, context.CancellationToken);
        return manifest.Render();
    }

    private static KubernetesPublishOptions ValidatedOptions(IServiceProvider services)
    {
        try
        {
            return services.GetRequiredService<IOptions<KubernetesPublishOptions>>().Value;
        }
        catch (OptionsValidationException ex)
        {
            throw new KubernetesPublishException(string.Join(Environment.NewLine, ex.Failures), ex);
        }
    }

    private static async Task<string> GetImageParameterAsync(ParameterResource parameter, IConfiguration configuration, CancellationToken cancellationToken)
    {
        var value = await parameter.GetValueAsync(cancellationToken) ?? "";
        EnsureNotShadowed(configuration, parameter.Name, value);
        return value;
    }

    /// <summary>
    /// Aspire keeps the parameter values of a publish in its deployment state (<c>~/.aspire/deployments</c>) and layers
    /// them over the command line on the next publish, so a new <c>--Parameters:image-tag</c> would silently publish
    /// the previous tag. An image tag is a revision's identity: refuse, and say how to use the given value.
    /// </summary>
    public static void EnsureNotShadowed(IConfiguration configuration, string parameterName, string resolvedValue)
    {
        if (configuration is not IConfigurationRoot root)
        {
            return;
        }

        var key = $"Parameters:{parameterName}";
        var explicitSources = root.Providers.Where(p => p is CommandLineConfigurationProvider or EnvironmentVariablesConfigurationProvider);
        foreach (var source in explicitSources)
        {
            if (source.TryGet(key, out var given) && !string.Equals(given, resolvedValue, StringComparison.Ordinal))
            {
                throw new KubernetesPublishException(
                    $"Parameter '{parameterName}' is '{given}' on the command line or in the environment, but Aspire's deployment state " +
                    $"from an earlier publish overrides it with '{resolvedValue}'. Publish with --clear-cache true to use '{given}'.");
            }
        }
    }

    /// <summary>
    /// <c>dotnet run -- --operation publish</c> exits 0 even when a pipeline step fails; scripts and CI rely on the
    /// exit code, so the AppHost process reports the failure itself. Only when the AppHost is the process, never
    /// when a test host runs it in-process.
    /// </summary>
    private static void MarkProcessFailed()
    {
        if (Assembly.GetEntryAssembly() == typeof(KubernetesPublishStep).Assembly)
        {
            Environment.ExitCode = 1;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 8000, Level = LogLevel.Information, Message = "Wrote {FileCount} Kubernetes manifest files to {OutputDirectory}; apply them with 'kubectl apply -k <directory>'.")]
        public static partial void ManifestsWritten(ILogger logger, int fileCount, string outputDirectory);
    }
}
