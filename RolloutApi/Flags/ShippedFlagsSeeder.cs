using System.Text.Json;
using AgentAspire.Contracts;
using Microsoft.Extensions.Options;
using RolloutApi.Flags.Validation;
using RolloutApi.Hosting;
using RolloutApi.Http;
using RolloutApi.Storage;

namespace RolloutApi.Flags;

/// <summary>
/// Gives each configured agent the flags it ships (<c>Agents:{agent}:Flags</c>, a feature_management document) as its
/// agent-level definitions, once: when the agent's definitions have never been set. After that they are the operators'
/// (<c>PUT .../flags/definitions</c>), and a restart does not undo their changes. Runs after <see cref="DatabaseInitializer"/>
/// and before the server accepts requests, so the first snapshot an agent reads already carries its flags. Before any
/// hosted service starts (<see cref="StartingAsync"/>), every shipped document is validated as a flag write would be, and
/// an invalid one fails the start naming its key, as options validation does.
/// </summary>
public sealed partial class ShippedFlagsSeeder(
    SqliteDatabase database,
    FlagSetStore store,
    FlagService flags,
    IOptions<AgentCatalogOptions> catalog,
    ILogger<ShippedFlagsSeeder> logger) : IHostedLifecycleService
{
    public const string Reason = "Flags the agent ships, from configuration";

    /// <summary>Refuses the start when a shipped document is not JSON or not a valid flag set, naming its key.</summary>
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach (var (agent, settings) in catalog.Value.Agents.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            if (string.IsNullOrWhiteSpace(settings.Flags))
            {
                continue;
            }

            var key = ConfigKeys.Agents.Flags(agent);
            try
            {
                using var document = JsonDocument.Parse(settings.Flags);
                var (_, errors) = await FlagDocumentValidator.ValidateAsync(document.RootElement, cancellationToken);
                failures.AddRange(errors.SelectMany(e => e.Value.Select(message => $"{key}: {e.Key}: {message}")));
            }
            catch (JsonException ex)
            {
                failures.Add($"{key} is not a JSON feature_management document: {ex.Message}");
            }
        }

        if (failures.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(AgentCatalogOptions), failures);
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var (agent, settings) in catalog.Value.Agents.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            if (string.IsNullOrWhiteSpace(settings.Flags))
            {
                continue;
            }

            await using (var session = await database.ReadAsync(cancellationToken))
            {
                if (await store.ReadAgentAsync(session, agent, cancellationToken) is { UpdatedBy: not null })
                {
                    continue;
                }
            }

            using var document = JsonDocument.Parse(settings.Flags);
            var outcome = await flags.SetDefinitionsAsync(
                agent, document.RootElement, Reason, Precondition.None, SystemActors.Configuration, cancellationToken);
            if (outcome.Error is { } error)
            {
                // StartingAsync validated the same document, so this is not a bad document.
                throw new InvalidOperationException($"Could not seed the flags agent '{agent}' ships: {error.Title}: {error.Detail}");
            }

            Log.Seeded(logger, agent, outcome.Value!.Value.Flags.Count);
        }
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 3250, Level = LogLevel.Information, Message = "Agent {Agent} starts with the {Count} flag(s) it ships")]
        public static partial void Seeded(ILogger logger, string agent, int count);
    }
}
