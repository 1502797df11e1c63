using AgentAspire.Contracts;
using RolloutApi.Drivers.Local;
using RolloutApi.Hosting;

namespace RolloutApi.Drivers;

/// <summary>Which <see cref="ITrackDriver"/> runs the tracks (section <c>Drivers</c>, key <c>Track</c>).</summary>
public sealed class TrackDriverOptions
{
    public const string SectionName = ConfigKeys.Drivers.Section;

    public string Track { get; set; } = LocalTrackDriver.DriverName;
}
