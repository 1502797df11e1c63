using System.Reflection;
using k8s;
using k8s.Models;

namespace AppHost.Kubernetes.Manifests;

/// <summary>What every object shares: its type metadata and its object metadata.</summary>
public static class ManifestObjects
{
    /// <summary>A typed object with its apiVersion and kind filled in from the model type's own metadata.</summary>
    public static T New<T>(Action<T> configure)
        where T : IKubernetesObject, new()
    {
        var entity = typeof(T).GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new InvalidOperationException($"{typeof(T).Name} is not a Kubernetes entity.");
        var value = new T
        {
            ApiVersion = string.IsNullOrEmpty(entity.Group) ? entity.ApiVersion : $"{entity.Group}/{entity.ApiVersion}",
            Kind = entity.Kind,
        };
        configure(value);
        return value;
    }

    /// <summary>A name in the namespace, with its own copy of the labels.</summary>
    public static V1ObjectMeta Metadata(string name, string @namespace, IReadOnlyDictionary<string, string> labels) => new()
    {
        Name = name,
        NamespaceProperty = @namespace,
        Labels = new Dictionary<string, string>(labels),
    };
}
