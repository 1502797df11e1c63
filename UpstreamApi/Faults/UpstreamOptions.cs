using Microsoft.Extensions.Options;

namespace UpstreamApi.Faults;

/// <summary>How the simulated upstream answers when no fault is set: a small, realistic latency. Section <c>Upstream</c>.</summary>
public sealed class UpstreamOptions
{
    public const string SectionName = "Upstream";

    /// <summary>Every call takes at least this long.</summary>
    public TimeSpan BaseLatency { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Up to this much more, uniformly, so the latency histogram has a shape.</summary>
    public TimeSpan Jitter { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Seed of the random source (jitter, which calls fail); unset, every run differs.</summary>
    public int? Seed { get; set; }
}

internal sealed class UpstreamOptionsValidator : IValidateOptions<UpstreamOptions>
{
    public ValidateOptionsResult Validate(string? name, UpstreamOptions options)
    {
        var failures = new List<string>();
        if (options.BaseLatency < TimeSpan.Zero || options.BaseLatency > FaultLimits.MaxLatency)
        {
            failures.Add($"{UpstreamOptions.SectionName}:BaseLatency must be between 0 and {FaultLimits.MaxLatency}.");
        }

        if (options.Jitter < TimeSpan.Zero || options.Jitter > FaultLimits.MaxLatency)
        {
            failures.Add($"{UpstreamOptions.SectionName}:Jitter must be between 0 and {FaultLimits.MaxLatency}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
