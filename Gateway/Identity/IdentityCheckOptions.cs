using Microsoft.Extensions.Options;

namespace Gateway.Identity;

/// <summary>The identity check's timing, bound from <c>Gateway:IdentityCheck</c> and validated at start.</summary>
public sealed class IdentityCheckOptions
{
    public const string SectionName = "Gateway:IdentityCheck";

    /// <summary>How long readiness stays Degraded after the last mismatch.</summary>
    public TimeSpan DegradedFor { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Mismatches closer together than this are one burst, logged once.</summary>
    public TimeSpan BurstGap { get; set; } = TimeSpan.FromSeconds(10);
}

internal sealed class IdentityCheckOptionsValidator : IValidateOptions<IdentityCheckOptions>
{
    public ValidateOptionsResult Validate(string? name, IdentityCheckOptions options) =>
        options.DegradedFor > TimeSpan.Zero && options.BurstGap > TimeSpan.Zero
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("Gateway:IdentityCheck:DegradedFor and Gateway:IdentityCheck:BurstGap must be positive.");
}
