
using RolloutApi.Http;
using RolloutApi.Storage;

namespace RolloutApi.Rollouts.Analysis;

/// <summary>Templates: saving (validated, versioned, If-Match on the version), reading, and resolving a name for a run.</summary>
public sealed class AnalysisTemplates(
    SqliteDatabase database, AgentStore agents, AnalysisStore store, IEnumerable<IMetricSource> sources, IEnumerable<IAnalysisJudge> judges)
{
    private readonly Dictionary<string, IMetricSource> _sources = sources.ToDictionary(s => s.Name, StringComparer.Ordinal);
    private readonly Dictionary<string, IAnalysisJudge> _judges = judges.ToDictionary(j => j.Name, StringComparer.Ordinal);

    public IMetricSource Source(string name) => _sources[name];

    public IAnalysisJudge Judge(string name) => _judges[name];

    /// <summary>Problems with a template, keyed by JSON path (empty when it can be saved).</summary>
    public Dictionary<string, string[]> Validate(AnalysisTemplate template)
    {
        var errors = template.Validate((kind, name) => kind == "source" ? _sources.ContainsKey(name) : _judges.ContainsKey(name));
        for (var i = 0; i < (template.Metrics?.Count ?? 0); i++)
        {
            if (template.Metrics![i] is { } metric && _sources.TryGetValue(metric.Source ?? string.Empty, out var source)
                && !string.IsNullOrWhiteSpace(metric.Query) && source.Check(metric) is { } problem)
            {
                errors.TryAdd($"metrics[{i}].query", [problem]);
            }
        }

        return errors;
    }

    /// <summary>Saves the next version of <paramref name="name"/>. If-Match is the current version (0 = the built-in or none).</summary>
    public async Task<Outcome<AnalysisTemplateView>> SaveAsync(
        string agent, string name, AnalysisTemplate? template, Precondition precondition, string actor, CancellationToken cancellationToken)
    {
        if (!AnalysisTemplate.IsValidName(name))
        {
            return OperationError.Invalid("name", $"A template name is 1-{AnalysisTemplate.MaxNameLength} of a-z, 0-9 and '-', starting with a letter or digit.");
        }

        if (template is null)
        {
            return OperationError.Invalid("body", "The body is a template: {\"metrics\": [...], ...}.");
        }

        var errors = Validate(template);
        if (errors.Count > 0)
        {
            return new OperationError(ErrorKind.Invalid, "Invalid template", "The template is not valid; see errors.", errors);
        }

        await using var work = await database.BeginAsync(cancellationToken);
        if (await agents.GetAgentAsync(work, agent, cancellationToken) is null)
        {
            return OperationError.AgentNotFound(agent);
        }

        var current = await store.GetTemplateAsync(work, agent, name, null, cancellationToken);
        if (!precondition.IsSatisfiedBy(current?.Version ?? 0))
        {
            return OperationError.Stale("template", current?.Version ?? 0);
        }

        var version = await store.InsertTemplateAsync(work, agent, name, template, actor, cancellationToken);
        await work.CommitAsync(cancellationToken);
        return new AnalysisTemplateView(agent, name, version, false, work.Now, actor, template);
    }

    /// <summary>A saved version, the newest, or the built-in one (version 0) when nothing is saved under that name.</summary>
    public async Task<AnalysisTemplateView?> ResolveAsync(ISqlSession session, string agent, string name, int? version, CancellationToken cancellationToken)
    {
        if (version is not 0 && await store.GetTemplateAsync(session, agent, name, version, cancellationToken) is { } saved)
        {
            return saved;
        }

        return version is null or 0 && BuiltInTemplates.All.TryGetValue(name, out var builtIn)
            ? new AnalysisTemplateView(agent, name, 0, true, null, "built-in", builtIn)
            : null;
    }

    public async Task<AnalysisTemplateView?> GetAsync(string agent, string name, int? version, CancellationToken cancellationToken)
    {
        await using var session = await database.ReadAsync(cancellationToken);
        return await ResolveAsync(session, agent, name, version, cancellationToken);
    }

    /// <summary>The newest version of every template the agent can use: saved ones and the built-ins not overridden.</summary>
    public async Task<IReadOnlyList<AnalysisTemplateView>> ListAsync(string agent, CancellationToken cancellationToken)
    {
        await using var session = await database.ReadAsync(cancellationToken);
        var saved = await store.ListTemplatesAsync(session, agent, cancellationToken);
        return [.. saved.Concat(BuiltInTemplates.All.Where(b => saved.All(s => s.Name != b.Key))
            .Select(b => new AnalysisTemplateView(agent, b.Key, 0, true, null, "built-in", b.Value))).OrderBy(t => t.Name, StringComparer.Ordinal)];
    }
}
