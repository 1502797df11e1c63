using AgentWorker.Configuration;

namespace AgentWorker.Tests.Configuration;

public sealed class WorkerOptionsValidatorTests
{
    private readonly WorkerOptionsValidator _validator = new();

    [Fact]
    public void Defaults_AreValid()
    {
        Assert.True(_validator.Validate(null, new WorkerOptions()).Succeeded);
    }

    [Fact]
    public void InvalidValues_AreEachReportedByTheirConfigurationKey()
    {
        var options = new WorkerOptions
        {
            Workers = 0,
            QueueCapacity = 10,
            MaxBatchSize = 11,
            MaxRequestBodyBytes = 10,
            UpstreamUrl = new Uri("/relative", UriKind.Relative),
            DrainTimeout = TimeSpan.FromSeconds(-1),
            Faults = new FaultOptions { FailureRate = 1.5, Latency = TimeSpan.FromSeconds(-1) },
        };

        var result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal(
            [
                "Worker:Workers", "Worker:MaxBatchSize", "Worker:MaxRequestBodyBytes", "Worker:UpstreamUrl", "Worker:DrainTimeout",
                "Worker:Faults:FailureRate", "Worker:Faults:Latency",
            ],
            result.Failures!.Select(failure => failure.Split(' ')[0]));
    }

    [Fact]
    public void UpstreamUrl_MustBeHttpOrHttps()
    {
        var result = _validator.Validate(null, new WorkerOptions { UpstreamUrl = new Uri("ftp://upstream/") });

        Assert.True(result.Failed);
        Assert.True(_validator.Validate(null, new WorkerOptions { UpstreamUrl = new Uri("https://upstream/") }).Succeeded);
    }
}
