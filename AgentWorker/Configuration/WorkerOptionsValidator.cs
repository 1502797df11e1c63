using Microsoft.Extensions.Options;

namespace AgentWorker.Configuration;

/// <summary>Checks <see cref="WorkerOptions"/> at start, naming each bad key the way it is configured.</summary>
internal sealed class WorkerOptionsValidator : IValidateOptions<WorkerOptions>
{
    // Ceilings that catch typos (an extra zero) rather than encode a real limit of the design.
    private const int MaxWorkers = 256;
    private const int MaxQueueCapacity = 1_000_000;
    private const long MaxBodyBytes = 64L * 1024 * 1024;
    private static readonly TimeSpan MaxDrainTimeout = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan MaxLatency = TimeSpan.FromMinutes(5);

    public ValidateOptionsResult Validate(string? name, WorkerOptions options)
    {
        var errors = new List<string>();
        var section = WorkerOptions.SectionName;

        Require(options.Workers is >= 1 and <= MaxWorkers, $"{section}:Workers must be between 1 and {MaxWorkers}.");
        Require(options.QueueCapacity is >= 1 and <= MaxQueueCapacity, $"{section}:QueueCapacity must be between 1 and {MaxQueueCapacity}.");
        // A batch larger than the queue could never be accepted: a client would retry a 429 forever.
        Require(options.MaxBatchSize >= 1 && options.MaxBatchSize <= options.QueueCapacity, $"{section}:MaxBatchSize must be between 1 and {section}:QueueCapacity.");
        Require(options.MaxRequestBodyBytes is >= 1024 and <= MaxBodyBytes, $"{section}:MaxRequestBodyBytes must be between 1024 and {MaxBodyBytes}.");
        Require(
            options.UpstreamUrl is null || (options.UpstreamUrl.IsAbsoluteUri && options.UpstreamUrl.Scheme is "http" or "https"),
            $"{section}:UpstreamUrl must be an absolute http or https URL.");
        Require(options.UpstreamTimeout > TimeSpan.Zero && options.UpstreamTimeout <= MaxDrainTimeout, $"{section}:UpstreamTimeout must be above 00:00:00 and at most {MaxDrainTimeout}.");
        Require(options.DrainTimeout >= TimeSpan.Zero && options.DrainTimeout <= MaxDrainTimeout, $"{section}:DrainTimeout must be between 00:00:00 and {MaxDrainTimeout}.");
        Require(options.RetryAfter >= TimeSpan.FromSeconds(1) && options.RetryAfter <= TimeSpan.FromHours(1), $"{section}:RetryAfter must be between 00:00:01 and 01:00:00.");
        Require(options.StatusRetention is >= 0 and <= MaxQueueCapacity, $"{section}:StatusRetention must be between 0 and {MaxQueueCapacity}.");

        var faults = options.Faults;
        Require(faults is not null, $"{section}:Faults must not be null.");
        if (faults is not null)
        {
            Require(faults.FailureRate is >= 0 and <= 1, $"{section}:Faults:FailureRate must be between 0 and 1.");
            Require(faults.Latency >= TimeSpan.Zero && faults.Latency <= MaxLatency, $"{section}:Faults:Latency must be between 00:00:00 and {MaxLatency}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);

        void Require(bool condition, string error)
        {
            if (!condition)
            {
                errors.Add(error);
            }
        }
    }
}
