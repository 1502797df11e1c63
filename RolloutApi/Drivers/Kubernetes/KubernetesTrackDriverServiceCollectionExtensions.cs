using k8s;
using k8s.Exceptions;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace RolloutApi.Drivers.Kubernetes;

/// <summary>Registration of the Kubernetes track driver (<c>Drivers:Track=kubernetes</c>).</summary>
public static class KubernetesTrackDriverServiceCollectionExtensions
{
    /// <summary>The variable Kubernetes sets in every pod; its presence selects the in-cluster configuration.</summary>
    public const string ServiceHostVariable = "KUBERNETES_SERVICE_HOST";

    /// <summary>
    /// Adds the <c>kubernetes</c> driver, its options (section <c>Drivers:Kubernetes</c>, validated at start) and an
    /// <see cref="IKubernetes"/> client. The client is built when the driver first calls the API, never at registration
    /// or start, so registering this driver costs nothing when configuration selects another.
    /// </summary>
    public static IServiceCollection AddKubernetesTrackDriver(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<KubernetesTrackDriverOptions>()
            .Bind(configuration.GetSection(KubernetesTrackDriverOptions.SectionName))
            .PostConfigure(options => options.Namespace = string.IsNullOrWhiteSpace(options.Namespace) ? DefaultNamespace() : options.Namespace.Trim())
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KubernetesTrackDriverOptions>, KubernetesTrackDriverOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IKubernetes>(provider =>
            new k8s.Kubernetes(CreateClientConfiguration(configuration, provider.GetRequiredService<IOptions<KubernetesTrackDriverOptions>>().Value)));
        services.TryAddSingleton(provider => new KubernetesClientHandle(provider.GetRequiredService<IKubernetes>));
        services.AddTrackDriver<KubernetesTrackDriver>();
        return services;
    }

    /// <summary>
    /// In a pod (<c>KUBERNETES_SERVICE_HOST</c> set): the service account's token and CA. Elsewhere: a kubeconfig file,
    /// e.g. to drive a kind cluster from a laptop. Either failure says which source was tried and how to fix it.
    /// </summary>
    internal static KubernetesClientConfiguration CreateClientConfiguration(IConfiguration configuration, KubernetesTrackDriverOptions options)
    {
        if (!string.IsNullOrEmpty(configuration[ServiceHostVariable]))
        {
            try
            {
                return KubernetesClientConfiguration.InClusterConfig();
            }
            catch (KubeConfigException e)
            {
                throw new InvalidOperationException(
                    $"{ServiceHostVariable} is set, so the Kubernetes track driver uses the in-cluster configuration, but it could not be loaded " +
                    $"(is a service account token mounted?): {e.Message}", e);
            }
        }

        try
        {
            return KubernetesClientConfiguration.BuildConfigFromConfigFile(
                kubeconfigPath: string.IsNullOrEmpty(options.KubeConfigPath) ? null : options.KubeConfigPath,
                currentContext: string.IsNullOrEmpty(options.Context) ? null : options.Context);
        }
        catch (Exception e) when (e is KubeConfigException or FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InvalidOperationException(
                $"{ServiceHostVariable} is not set, so the Kubernetes track driver reads a kubeconfig file " +
                $"('{(string.IsNullOrEmpty(options.KubeConfigPath) ? "KUBECONFIG or ~/.kube/config" : options.KubeConfigPath)}'), but could not load it: {e.Message} " +
                $"Set {KubernetesTrackDriverOptions.SectionName}:KubeConfigPath, or run RolloutApi in the cluster.", e);
        }
    }

    private static string DefaultNamespace()
    {
        try
        {
            var fromPod = File.Exists(KubernetesTrackDriverOptions.InClusterNamespaceFile)
                ? File.ReadAllText(KubernetesTrackDriverOptions.InClusterNamespaceFile).Trim()
                : null;
            return string.IsNullOrEmpty(fromPod) ? KubernetesTrackDriverOptions.FallbackNamespace : fromPod;
        }
        catch (IOException)
        {
            return KubernetesTrackDriverOptions.FallbackNamespace;
        }
        catch (UnauthorizedAccessException)
        {
            return KubernetesTrackDriverOptions.FallbackNamespace;
        }
    }
}
