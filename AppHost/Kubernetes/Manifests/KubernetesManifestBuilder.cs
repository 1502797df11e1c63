using System.Text.RegularExpressions;
using AgentAspire.Contracts;
using AppHost.Kubernetes.AppModel;

namespace AppHost.Kubernetes.Manifests;

/// <summary>
/// Turns the app model (read by <see cref="AppModelReader"/>), the publish options and the image coordinates into
/// typed Kubernetes objects: per service a Deployment, Service and ConfigMap (+ Secret when it has secrets); agent
/// tracks with replica counts from the ratio and a PodDisruptionBudget; the control plane with its volume,
/// ServiceAccount and a Role limited to what its track driver patches. Each kind is built by its own
/// <c>*Manifests</c> class; this one decides which objects a service gets, in which order. It writes nothing.
/// </summary>
public sealed partial class KubernetesManifestBuilder(KubernetesPublishOptions options, ContainerImages images)
{
    public const string PartOf = "agentaspire";

    /// <summary>Reads the model in publish mode and builds the manifest from it.</summary>
    public async Task<KubernetesManifest> BuildAsync(
        DistributedApplicationModel model,
        DistributedApplicationExecutionContext executionContext,
        CancellationToken cancellationToken)
    {
        var services = await new AppModelReader(executionContext).ReadAsync(model, cancellationToken);
        return Build(services);
    }

    /// <summary>Builds every object, after checking the images: a refused tag throws before anything is produced.</summary>
    public KubernetesManifest Build(IReadOnlyList<PublishedService> services)
    {
        var problems = images.Problems();
        if (problems.Count > 0)
        {
            throw new KubernetesPublishException(string.Join(Environment.NewLine, problems));
        }

        var manifest = new KubernetesManifest(options.Namespace);
        if (options.CreateNamespace)
        {
            manifest.Add(options.Namespace, NamespaceManifests.Build(options.Namespace));
        }

        foreach (var service in services)
        {
            if (!DnsLabel().IsMatch(service.Name))
            {
                throw new KubernetesPublishException($"Resource name '{service.Name}' is not a DNS-1123 label, so it cannot name a Service.");
            }

            AddObjects(manifest, Plan(service, services));
        }

        return manifest;
    }

    private ServicePlan Plan(PublishedService service, IReadOnlyList<PublishedService> services)
    {
        var (stableReplicas, canaryReplicas) = options.SplitAgentReplicas();
        var replicas = service.Agent?.Track switch
        {
            Tracks.Stable => stableReplicas,
            Tracks.Canary => canaryReplicas,
            // SQLite has one writer: the control plane never runs more than one pod.
            _ when service.IsControlPlane => 1,
            _ => service.Replicas,
        };

        return new ServicePlan(
            service,
            Labels.For(service, images.Tag),
            replicas,
            ServiceEnvironment.For(service, services, options, images),
            options.Namespace);
    }

    /// <summary>A service's objects, in the order the kustomization lists them.</summary>
    private void AddObjects(KubernetesManifest manifest, ServicePlan plan)
    {
        manifest.Add(plan.Name, ConfigurationManifests.ConfigMap(plan));
        if (plan.Environment.Secrets.Count > 0)
        {
            manifest.Add(plan.Name, ConfigurationManifests.Secret(plan));
        }

        if (plan.Service.IsControlPlane)
        {
            manifest.Add(plan.Name, RbacManifests.ServiceAccount(plan));
            manifest.Add(plan.Name, RbacManifests.Role(plan));
            manifest.Add(plan.Name, RbacManifests.RoleBinding(plan));
            manifest.Add(plan.Name, StorageManifests.DataClaim(plan, options));
        }

        if (plan.Service.Ports.Count > 0)
        {
            manifest.Add(plan.Name, ServiceManifests.Build(plan, options));
        }

        manifest.Add(plan.Name, DeploymentManifests.Build(plan, options, images));

        if (plan.Service.Agent is not null)
        {
            manifest.Add(plan.Name, DisruptionBudgetManifests.Build(plan));
        }
    }

    [GeneratedRegex(KubernetesPublishOptions.DnsLabelPattern)]
    private static partial Regex DnsLabel();
}
