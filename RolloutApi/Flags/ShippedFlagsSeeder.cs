using System.Text.Json;
using Microsoft.Extensions.Options;
using RolloutApi.Hosting;
using RolloutApi.Rollouts;
using RolloutApi.Storage;

namespace RolloutApi.Flags;

/// <summary>
/// Gives each configured agent the flags it ships (<c>Agents:{agent}:Flags</c>, a feature_management document) as its
/// agent-level definitions, once: when the agent's definitions have never been set. After that they are the operators'
/// (<c>PUT .../flags/definitions</c>), and a restart does not undo their changes. Runs after <see cref="DatabaseInitializer"/>
/// and before the server accepts requests, so the first snapshot an agent reads already carries its flags.
/// </summary>
public sealed partial class ShippedFlagsSeeder(
    SqliteDatabase database,
    FlagSetStore store,
    FlagService flags,
    IOptions<AgentCatalogOptions> catalog,
    ILogger<ShippedFlagsSeeder> logger) : IHostedService
{
    public const string Reason = "Flags the agent ships, from configuration";

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
                // The catalog validator parsed the same document at start, so this is not a bad document.
                throw new InvalidOperationException($"Could not seed the flags agent '{agent}' ships: {error.Title}: {error.Detail}");
            }

            Log.Seeded(logger, agent, outcome.Value!.Value.Flags.Count);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Agent {Agent} starts with the {Count} flag(s) it ships")]
        public static partial void Seeded(ILogger logger, string agent, int count);
    }
}
