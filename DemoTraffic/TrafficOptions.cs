using System.ComponentModel.DataAnnotations;

namespace DemoTraffic;

/// <summary>What the demo client sends, and where. Section <c>Traffic</c>.</summary>
public sealed class TrafficOptions
{
    public const string SectionName = "Traffic";

    /// <summary>The gateway's address (service discovery resolves <c>http://gateway</c>).</summary>
    [Required]
    public Uri Target { get; set; } = new("http://gateway");

    /// <summary>Single work items per second (open loop: the pace does not wait for answers).</summary>
    [Range(0.1, 1000)]
    public double RequestsPerSecond { get; set; } = 5;

    /// <summary>Every Nth tick also queues a batch, so the queue gauge moves; 0 sends no batches.</summary>
    [Range(0, 10_000)]
    public int BatchEvery { get; set; } = 20;

    [Range(1, 100)]
    public int BatchSize { get; set; } = 10;

    /// <summary>Distinct sticky client ids the requests carry, so the gateway's keyed split is exercised too.</summary>
    [Range(1, 100_000)]
    public int Clients { get; set; } = 50;
}
