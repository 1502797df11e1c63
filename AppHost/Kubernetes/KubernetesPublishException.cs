namespace AppHost.Kubernetes;

/// <summary>The app model or the publish settings cannot be published; the message says what to change.</summary>
public sealed class KubernetesPublishException : Exception
{
    public KubernetesPublishException(string message)
        : base(message)
    {
    }

    public KubernetesPublishException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public KubernetesPublishException()
    {
    }
}
