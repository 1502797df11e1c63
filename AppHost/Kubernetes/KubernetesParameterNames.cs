namespace AppHost.Kubernetes;

/// <summary>The AppHost parameters the Kubernetes publisher adds.</summary>
public static class KubernetesParameterNames
{
    public const string ImageRegistry = "image-registry";
    public const string ImageTag = "image-tag";
}
