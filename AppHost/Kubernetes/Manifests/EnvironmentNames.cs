using AgentAspire.Contracts;

namespace AppHost.Kubernetes.Manifests;

/// <summary>Environment variables the publisher sets or overrides.</summary>
public static class EnvironmentNames
{
    public const string HttpPorts = "HTTP_PORTS";
    public const string AspNetCoreUrls = "ASPNETCORE_URLS";
    public const string OtlpEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string OtelServiceName = "OTEL_SERVICE_NAME";
    public static readonly string DatabasePath = ConfigKeys.ToEnvironmentVariable(ConfigKeys.RolloutApi.DatabasePath);
    public static readonly string TrackDriver = ConfigKeys.ToEnvironmentVariable(ConfigKeys.Drivers.Track);
    public static readonly string GatewayForcedTrackAnonymous = ConfigKeys.ToEnvironmentVariable(ConfigKeys.Gateway.ForcedTrackAllowAnonymous);
}
