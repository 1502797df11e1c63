namespace AppHost.Kubernetes.AppModel;

/// <summary>An HTTP endpoint of a service: the port its container listens on and the port its Service exposes.</summary>
public sealed record PublishedPort(string Name, int ContainerPort, int ServicePort);
