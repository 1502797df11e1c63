using System.Globalization;
using AgentAspire.Contracts;
using AppHost.Kubernetes.AppModel;
using AppHost.Model;

namespace AppHost.Kubernetes.Manifests;

/// <summary>
/// A service's environment on the cluster, in three places: <see cref="Configuration"/> (its ConfigMap),
/// <see cref="Secrets"/> (its Secret, reached through <c>secretKeyRef</c>) and <see cref="Revision"/> (literal values on
/// the container, beside the image).
/// </summary>
public sealed record ServiceEnvironment(
    SortedDictionary<string, string> Configuration,
    SortedDictionary<string, string> Secrets,
    SortedDictionary<string, string> Revision)
{
    /// <summary>
    /// The model's environment, plus what only the cluster knows: port, telemetry, the control plane's volume and driver.
    /// Plain values go to the ConfigMap and secrets to the Secret, except an agent track's version label: it is
    /// part of the revision, so it sits on the container beside the image, where the track driver's one patch of
    /// the Deployment (it may patch Deployments, not ConfigMaps) changes both and rolls the pods.
    /// </summary>
    public static ServiceEnvironment For(
        PublishedService service, IReadOnlyList<PublishedService> services, KubernetesPublishOptions options, ContainerImages images)
    {
        var configuration = new SortedDictionary<string, string>(service.Configuration.ToDictionary(), StringComparer.Ordinal);
        var secrets = new SortedDictionary<string, string>(service.Secrets.ToDictionary(), StringComparer.Ordinal);

        void Set(string name, string value)
        {
            secrets.Remove(name);
            configuration[name] = value;
        }

        if (service.Ports.Count > 0)
        {
            // URLS would override HTTP_PORTS; the container listens on the port the Service targets, nothing else.
            configuration.Remove(EnvironmentNames.AspNetCoreUrls);
            Set(EnvironmentNames.HttpPorts, service.Ports[0].ContainerPort.ToString(CultureInfo.InvariantCulture));
        }

        if (!string.IsNullOrEmpty(options.OtlpEndpoint))
        {
            Set(EnvironmentNames.OtlpEndpoint, options.OtlpEndpoint);
            Set(EnvironmentNames.OtelServiceName, service.Name);
        }

        if (service.IsControlPlane)
        {
            Set(EnvironmentNames.DatabasePath, $"{StorageManifests.DataMountPath}/{StorageManifests.DatabaseFileName}");
            Set(EnvironmentNames.TrackDriver, TrackDriverNames.Kubernetes);

            // RolloutApi seeds revision 1 from the stable track: it must name the image the stable Deployment already
            // runs, or the first reconcile would patch stable to a tag nobody pushed.
            foreach (var stable in services.Where(s => s.Agent?.Track == Tracks.Stable))
            {
                var image = images.For(stable.ProjectName);
                Set(ConfigKeys.ToEnvironmentVariable(ConfigKeys.Agents.Image(stable.Agent!.AgentName)), image[..image.LastIndexOf(':')]);
                Set(ConfigKeys.ToEnvironmentVariable(ConfigKeys.Agents.StableImageTag(stable.Agent.AgentName)), images.Tag);
            }
        }

        if (service.Role == ResourceRole.Gateway)
        {
            // A published gateway faces real users: only callers with the forced-track token or a listed client id may
            // pick a track (Gateway:ForcedTrack:Token / ClientIds, set by the operator from a secret).
            Set(EnvironmentNames.GatewayForcedTrackAnonymous, "false");
        }

        var revision = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (service.Agent is { } track)
        {
            // From the track annotation, whatever the model's environment says: the driver patches this variable.
            var variable = ConfigKeys.ToEnvironmentVariable(track.VersionKey);
            configuration.Remove(variable);
            secrets.Remove(variable);
            revision[variable] = track.Version;
        }

        return new ServiceEnvironment(configuration, secrets, revision);
    }
}
