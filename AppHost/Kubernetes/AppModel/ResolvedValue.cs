namespace AppHost.Kubernetes.AppModel;

/// <summary>A value's text on the cluster, and whether a secret parameter went into it (it then goes to a Secret only).</summary>
public sealed record ResolvedValue(string Text, bool IsSecret);
