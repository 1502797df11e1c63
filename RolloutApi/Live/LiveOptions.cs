using System.ComponentModel.DataAnnotations;

namespace RolloutApi.Live;

/// <summary>Settings of the live view (section <c>Live</c>): how often it samples, and where the gateways are.</summary>
public sealed class LiveOptions
{
    public const string Section = "Live";

    /// <summary>How often a live stream sends a frame.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The window each traffic sample summarises (the gateway's <c>/gateway/stats?window=</c>).</summary>
    [Range(1, 600)]
    public int StatsWindowSeconds { get; set; } = 10;

    /// <summary>How long one gateway may take to answer before the frame goes out without it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:00:30")]
    public TimeSpan GatewayTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Base addresses of the gateways whose stats the live view sums (service-discovery names work: <c>http://gateway</c>).</summary>
    public List<Uri> Gateways { get; set; } = [];
}
