using System.Diagnostics;

namespace AgentWorker.Telemetry;

/// <summary>The one name under which AgentWorker emits its own metrics and traces.</summary>
public static class AgentTelemetry
{
    /// <summary>Meter and activity source name; passed to <c>AddServiceDefaults</c> so both are exported.</summary>
    public const string Name = "AgentWorker";

    internal static readonly ActivitySource ActivitySource = new(Name);
}
