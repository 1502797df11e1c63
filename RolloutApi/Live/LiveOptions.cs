using System.ComponentModel.DataAnnotations;

namespace RolloutApi.Live;

/// <summary>Settings of the live view (section <c>Live</c>). Where the gateways are is <c>Gateways</c> (<see cref="Gateways.GatewayReaderOptions"/>).</summary>
public sealed class LiveOptions
{
    public const string Section = "Live";

    /// <summary>How often a live stream sends a frame.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The window each traffic sample summarises (the gateway's <c>/gateway/stats?window=</c>).</summary>
    [Range(1, 600)]
    public int StatsWindowSeconds { get; set; } = 10;
}
