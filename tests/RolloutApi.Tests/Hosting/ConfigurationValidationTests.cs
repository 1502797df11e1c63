using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Hosting;

/// <summary>
/// Bad configuration stops the service at start, naming the key, instead of failing on the first request.
/// </summary>
/// <remarks>
/// The cause is read from where the app reports it, not only from what <c>CreateClient</c> throws. With a minimal-hosting
/// Program, WebApplicationFactory runs <c>Main</c> on a thread of its own: when <c>app.Run()</c> fails there, it disposes
/// the host, and the factory's <c>DeferredHost.StartAsync</c>, on the test thread, resolves a service from that host before
/// it awaits the failure. If the test thread is descheduled long enough (heavy load), that resolve comes second and throws
/// ObjectDisposedException ("IServiceProvider") instead of the validation error. The host logs its start failure
/// ("Hosting failed to start", with the exception) before it throws and before it is disposed, so that record is there
/// whichever exception reaches the test.
/// </remarks>
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
        var startFailures = new StartFailureLog();
        using var capturing = factory.WithWebHostBuilder(builder => builder.ConfigureServices(services => services.AddSingleton<ILoggerProvider>(startFailures)));

        var error = Assert.ThrowsAny<Exception>(() => capturing.CreateClient());

        // Thrown while the host was built (no host yet), or logged by the host when it failed to start.
        var messages = string.Join(" | ", new[] { error }.Concat(startFailures.Exceptions).SelectMany(Flatten).Select(e => e.Message));
        Assert.Contains(named, messages, StringComparison.Ordinal);
    }

    /// <summary>Keeps the exceptions the host logs when it fails to start.</summary>
    private sealed class StartFailureLog : ILoggerProvider
    {
        private readonly ConcurrentQueue<Exception> _exceptions = new();

        public IEnumerable<Exception> Exceptions => _exceptions;

        public ILogger CreateLogger(string categoryName) =>
            categoryName == "Microsoft.Extensions.Hosting.Internal.Host" ? new Logger(_exceptions) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<Exception> exceptions) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (logLevel >= LogLevel.Error && exception is not null)
                {
                    exceptions.Enqueue(exception);
                }
            }
        }
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
