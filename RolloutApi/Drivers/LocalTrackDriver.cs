using AgentAspire.Contracts;

namespace RolloutApi.Drivers;

/// <summary>
/// The driver for <c>dotnet run --project AppHost</c>: Aspire already runs both tracks, and the version each serves travels in
/// the routing table, so there is nothing to patch or scale.
/// </summary>
internal sealed class LocalTrackDriver : ITrackDriver
{
    public const string DriverName = TrackDriverNames.Local;

    public string Name => DriverName;

    public Task DeployAsync(string track, RevisionSpec revision, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task ScaleAsync(string agent, string track, int replicas, CancellationToken cancellationToken) => Task.CompletedTask;
}
