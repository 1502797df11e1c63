using k8s;

namespace AppHost.Kubernetes.Manifests;

/// <summary>One object and the file it is written to.</summary>
public sealed record ManifestFile(string FileName, IKubernetesObject Object);
