using k8s.Models;

namespace AppHost.Kubernetes.Manifests;

/// <summary>
/// The control plane's identity on the cluster: a ServiceAccount, and a Role (bound to it) granting exactly what the
/// track driver does: read and watch Deployments, patch their image, scale them; in this namespace only, and nothing on
/// pods, secrets or anything else.
/// </summary>
public static class RbacManifests
{
    /// <summary>The verbs RolloutApi's track driver needs on Deployments: watch availability, patch the image.</summary>
    public static readonly IReadOnlyList<string> DeploymentVerbs = ["get", "list", "watch", "patch", "update"];

    /// <summary>The verbs it needs on <c>deployments/scale</c>: read and set replica counts.</summary>
    public static readonly IReadOnlyList<string> ScaleVerbs = ["get", "patch", "update"];

    public static V1ServiceAccount ServiceAccount(ServicePlan plan) =>
        ManifestObjects.New<V1ServiceAccount>(o =>
        {
            o.Metadata = plan.Metadata();
            o.AutomountServiceAccountToken = true;
        });

    public static V1Role Role(ServicePlan plan) =>
        ManifestObjects.New<V1Role>(o =>
        {
            o.Metadata = plan.Metadata();
            o.Rules =
            [
                new V1PolicyRule { ApiGroups = ["apps"], Resources = ["deployments"], Verbs = [.. DeploymentVerbs] },
                new V1PolicyRule { ApiGroups = ["apps"], Resources = ["deployments/scale"], Verbs = [.. ScaleVerbs] },
            ];
        });

    public static V1RoleBinding RoleBinding(ServicePlan plan) =>
        ManifestObjects.New<V1RoleBinding>(o =>
        {
            o.Metadata = plan.Metadata();
            o.RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = V1Role.KubeKind, Name = plan.Name };
            o.Subjects = [new Rbacv1Subject { Kind = V1ServiceAccount.KubeKind, Name = plan.Name, NamespaceProperty = plan.Namespace }];
        });
}
