using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Support;

/// <summary>Keeps every log entry of one category prefix, so tests can count what the gateway logged.</summary>
public sealed class CapturingLoggerProvider(string categoryPrefix) : ILoggerProvider
{
    public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    public int Count(LogLevel level, string contains) =>
        Entries.Count(e => e.Level == level && e.Message.Contains(contains, StringComparison.Ordinal));

    private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => category.StartsWith(provider._prefix, StringComparison.Ordinal);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Entries.Enqueue((category, logLevel, formatter(state, exception)));
            }
        }
    }

    private readonly string _prefix = categoryPrefix;
}
