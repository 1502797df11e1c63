using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RolloutApi.Drivers.Kubernetes;

/// <summary>
/// The patch bodies the driver sends. A Deployment is patched with a strategic merge patch because its containers and
/// their environment are lists keyed by name: the patch names one container and one variable and leaves the rest
/// alone, where a JSON merge patch would replace the whole list. The scale subresource has no lists, so a JSON merge
/// patch is enough there.
/// </summary>
internal static partial class DeploymentPatches
{
    public const string VersionLabel = "app.kubernetes.io/version";
    public const string RevisionAnnotation = "agentaspire.io/revision";
    public const string ChangeCauseAnnotation = "kubernetes.io/change-cause";

    /// <summary>
    /// Runs <paramref name="revision"/> in <paramref name="container"/>: image, version label (Deployment and pod template)
    /// and, if configured, the version environment variable. The revision number is an annotation of the Deployment
    /// only, not of the pod template, so that a revision which changes neither image nor version (only flags, which
    /// travel by stream) restarts no pod. <paramref name="replicas"/>, when given, goes in the same patch, so a
    /// Deployment brought back from zero starts its pods on the new revision directly.
    /// </summary>
    public static string ForRevision(RevisionSpec revision, string container, string image, string? versionVariable, int? replicas)
    {
        // A version that is not a valid label value (e.g. "1.0+build.5") cannot be a label: the stale one is removed
        // (null deletes a key in a merge patch) rather than left to claim the previous version.
        JsonNode? versionLabel = IsLabelValue(revision.Version) ? revision.Version : null;
        var containerPatch = new JsonObject { ["name"] = container, ["image"] = image };
        if (!string.IsNullOrEmpty(versionVariable))
        {
            containerPatch["env"] = new JsonArray(new JsonObject { ["name"] = versionVariable, ["value"] = revision.Version });
        }

        var spec = new JsonObject();
        if (replicas is { } count)
        {
            spec["replicas"] = count;
        }

        spec["template"] = new JsonObject
        {
            ["metadata"] = new JsonObject { ["labels"] = new JsonObject { [VersionLabel] = versionLabel?.DeepClone() } },
            ["spec"] = new JsonObject { ["containers"] = new JsonArray(containerPatch) },
        };

        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["labels"] = new JsonObject { [VersionLabel] = versionLabel },
                ["annotations"] = new JsonObject
                {
                    [RevisionAnnotation] = revision.Number.ToString(CultureInfo.InvariantCulture),
                    [ChangeCauseAnnotation] = $"{revision.Agent} revision {revision.Number}: version {revision.Version}, image {image}",
                },
            },
            ["spec"] = spec,
        };
        return patch.ToJsonString();
    }

    /// <summary>Sets the replica count through the <c>scale</c> subresource.</summary>
    public static string ForReplicas(int replicas) =>
        new JsonObject { ["spec"] = new JsonObject { ["replicas"] = replicas } }.ToJsonString();

    /// <summary>A revision's image: <c>repository:tag</c>, or <c>repository@sha256:…</c> when the revision names a digest.</summary>
    public static string ImageOf(string repository, string tagOrDigest) =>
        tagOrDigest.StartsWith("sha256:", StringComparison.Ordinal) ? $"{repository}@{tagOrDigest}" : $"{repository}:{tagOrDigest}";

    /// <summary>The repository part of an image reference: <c>host:5000/team/app:1.2@sha256:…</c> → <c>host:5000/team/app</c>.</summary>
    public static string RepositoryOf(string image)
    {
        var reference = image;
        var digest = reference.IndexOf('@', StringComparison.Ordinal);
        if (digest >= 0)
        {
            reference = reference[..digest];
        }

        // A colon after the last slash starts the tag; one before it is a registry port.
        var colon = reference.LastIndexOf(':');
        return colon > reference.LastIndexOf('/') ? reference[..colon] : reference;
    }

    public static bool IsLabelValue(string value) => value.Length <= 63 && LabelValue().IsMatch(value);

    [GeneratedRegex("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();
}
