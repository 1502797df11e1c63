using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Hosting;

/// <summary>Bad configuration stops the service at start, naming the key, instead of failing on the first request.</summary>
public sealed class ConfigurationValidationTests
{
    [Theory]
    [InlineData("Auth:ApiKeys:ops:Role", "admin", "Auth:ApiKeys:ops:Role")]
    [InlineData("Auth:ApiKeys:ops:Key", "", "Auth:ApiKeys:ops:Key")]
    [InlineData("Auth:ApiKeys:ops:Key", RolloutApiFactory.ViewerKey, "unique")]
    [InlineData("Agents:agent-worker:Stable:Destination", "agent-stable", "Agents:agent-worker:Stable:Destination")]
    [InlineData("Agents:agent-worker:Stable:Version", "latest", "Agents:agent-worker:Stable:Version")]
    [InlineData("Agents:agent-worker:Flags", "{\"feature_flags\": [{\"enabled\": true}]}", "Agents:agent-worker:Flags")]
    [InlineData("Agents:agent-worker:Flags", "not json", "Agents:agent-worker:Flags")]
    [InlineData("Agents:agent-worker:Stable:ImageTag", "latest", "Agents:agent-worker:Stable:ImageTag")]
    [InlineData("Agents:agent-worker:Canary:Version", "1.0 beta", "Agents:agent-worker:Canary:Version")]
    [InlineData("Agents:agent-worker:Image", "registry.example/agent:1.0", "Agents:agent-worker:Image")]
    [InlineData("Agents:Bad_Name:Stable:Destination", "http://x", "Bad_Name")]
    [InlineData("Drivers:Track", "no-such-driver", "Drivers:Track")]
    [InlineData("Analysis:Provider", "no-such-provider", "Analysis:Provider")]
    [InlineData("RolloutApi:RevisionHistoryLimit", "1", "RevisionHistoryLimit")]
    [InlineData("RolloutApi:ReconcileInterval", "00:00:00", "ReconcileInterval")]
    public void Invalid_configuration_fails_at_start_naming_the_key(string key, string value, string named)
    {
        using var factory = new RolloutApiFactory(settings: new Dictionary<string, string?> { [key] = value });

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        var messages = string.Join(" | ", Flatten(error).Select(e => e.Message));
        Assert.Contains(named, messages, StringComparison.Ordinal);
    }

    private static IEnumerable<Exception> Flatten(Exception error)
    {
        for (Exception? current = error; current is not null; current = current.InnerException)
        {
            yield return current;
            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Flatten))
                {
                    yield return inner;
                }
            }
        }
    }
}
