using k8s.Models;

namespace AppHost.Kubernetes.Manifests;

/// <summary>The Service in front of a service's pods: its HTTP ports by name; external ones get the configured type.</summary>
public static class ServiceManifests
{
    public static V1Service Build(ServicePlan plan, KubernetesPublishOptions options) =>
        ManifestObjects.New<V1Service>(o =>
        {
            o.Metadata = plan.Metadata();
            o.Spec = new V1ServiceSpec
            {
                Type = plan.Service.IsExternal ? options.GatewayServiceType : KubernetesPublishOptions.ClusterIP,
                Selector = plan.Selector,
                Ports = [.. plan.Service.Ports.Select(p => new V1ServicePort
                {
                    Name = p.Name,
                    Port = p.ServicePort,
                    TargetPort = p.Name,
                    Protocol = "TCP",
                    AppProtocol = "http",
                })],
            };
        });
}
