using k8s;
using k8s.Models;

namespace AppHost.Kubernetes.Manifests;

/// <summary>
/// The objects a publish produces, each with the file it goes to, and the <c>kustomization.yaml</c> that lists
/// them all: <c>kubectl apply -k DIR</c> applies the whole app.
/// </summary>
public sealed class KubernetesManifest(string @namespace)
{
    public const string KustomizationFileName = "kustomization.yaml";

    private readonly List<ManifestFile> _files = [];

    public string Namespace { get; } = @namespace;

    public IReadOnlyList<ManifestFile> Files => _files;

    public IEnumerable<IKubernetesObject> Objects => _files.Select(f => f.Object);

    /// <summary>Adds an object, written to <c>&lt;owner&gt;-&lt;kind&gt;.yaml</c> (e.g. <c>rollout-api-deployment.yaml</c>).</summary>
    public void Add<T>(string owner, T value)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        var fileName = $"{owner}-{value.Kind.ToLowerInvariant()}.yaml";
        if (_files.Any(f => f.FileName == fileName))
        {
            throw new KubernetesPublishException($"Two objects would be written to {fileName}: an owner has one object of each kind.");
        }

        _files.Add(new ManifestFile(fileName, value));
    }

    /// <summary>The files' names and contents, the kustomization last; rendering twice gives the same text.</summary>
    public IReadOnlyList<(string FileName, string Content)> Render()
    {
        var rendered = _files.Select(f => (f.FileName, WithFinalNewline(KubernetesYaml.Serialize(f.Object)))).ToList();
        var kustomization = new Kustomization
        {
            Namespace = Namespace,
            Resources = [.. _files.Select(f => f.FileName)],
        };
        rendered.Add((KustomizationFileName, WithFinalNewline(KubernetesYaml.Serialize(kustomization))));
        return rendered;
    }

    private static string WithFinalNewline(string text) => text.EndsWith('\n') ? text : text + "\n";
}
