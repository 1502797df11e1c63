using System.Text.Json;
using AgentAspire.Contracts;
using Microsoft.FeatureManagement;
using RolloutApi.Flags.Validation.Filters;
using ServiceDefaults.Http;

namespace RolloutApi.Flags.Validation;

/// <summary>
/// The second pass, on a flag whose shape is right: parses it as an agent will (Microsoft.FeatureManagement's
/// configuration provider over an in-memory configuration), materialises what the library leaves lazy, checks that
/// allocations name the flag's variants, and hands each filter's parameters to the validator of its name.
/// </summary>
internal static class FlagDefinitionCheck
{
    public static async Task CheckAsync(JsonElement flag, ShapedFlag shape, string path, ValidationErrors errors, CancellationToken cancellationToken)
    {
        FeatureDefinition definition;
        try
        {
            definition = await ParseAsync(flag, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Whatever the library throws on this flag, an agent's evaluation would throw too: the flag is refused.
            errors.Add(path, e.Message);
            return;
        }

        if (definition.Allocation is { } allocation)
        {
            CheckAllocation(allocation, $"{path}.allocation", shape.Variants, errors);
        }

        var index = 0;
        foreach (var filter in definition.EnabledFor)
        {
            // "enabled": true without client filters parses as the library's own AlwaysOn filter: nothing to bind.
            if (FlagFilterValidators.Find(filter.Name) is not { } validator)
            {
                continue;
            }

            var parametersPath = $"{path}.conditions.client_filters[{index++}].parameters";
            try
            {
                if (await validator.CheckAsync(filter.Parameters, cancellationToken) is { } problem)
                {
                    errors.Add(parametersPath, problem);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The library's binders throw on what they cannot bind (a bad date, an invalid recurrence, ...).
                errors.Add(parametersPath, e.Message);
            }
        }
    }

    private static async Task<FeatureDefinition> ParseAsync(JsonElement flag, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteStartObject(FlagSchema.Section);
            writer.WriteStartArray(FlagSchema.FeatureFlags);
            flag.WriteTo(writer);
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        stream.Position = 0;
        var configuration = new ConfigurationBuilder().AddJsonStream(stream).Build();
        using var provider = new ConfigurationFeatureDefinitionProvider(configuration);
        FeatureDefinition? definition = null;
        await foreach (var parsed in provider.GetAllFeatureDefinitionsAsync().WithCancellation(cancellationToken))
        {
            // The configuration holds exactly one flag.
            definition = definition is null ? parsed : throw new InvalidOperationException("The flag parsed as more than one definition.");
        }

        if (definition is null)
        {
            throw new InvalidOperationException("The flag parsed as no definition.");
        }

        // The library leaves these as lazy queries over the configuration; enumerating them surfaces their errors now.
        _ = definition.EnabledFor.ToList();
        _ = definition.Variants.ToList();
        if (definition.Allocation is { } allocation)
        {
            _ = allocation.User?.Select(u => u.Users?.ToList()).ToList();
            _ = allocation.Group?.Select(g => g.Groups?.ToList()).ToList();
            _ = allocation.Percentile?.ToList();
        }

        return definition;
    }

    private static void CheckAllocation(Allocation allocation, string path, HashSet<string> variants, ValidationErrors errors)
    {
        void Reference(string? variant, string where)
        {
            if (variant is not null && !variants.Contains(variant))
            {
                errors.Add($"{path}.{where}", $"Variant '{variant}' is not one of the flag's variants.");
            }
        }

        Reference(allocation.DefaultWhenEnabled, "default_when_enabled");
        Reference(allocation.DefaultWhenDisabled, "default_when_disabled");
        foreach (var (user, i) in (allocation.User ?? []).Select((u, i) => (u, i)))
        {
            Reference(user.Variant, $"user[{i}].variant");
        }

        foreach (var (group, i) in (allocation.Group ?? []).Select((g, i) => (g, i)))
        {
            Reference(group.Variant, $"group[{i}].variant");
        }

        foreach (var (percentile, i) in (allocation.Percentile ?? []).Select((p, i) => (p, i)))
        {
            Reference(percentile.Variant, $"percentile[{i}].variant");
            if (percentile.From is < 0 or > 100 || percentile.To is < 0 or > 100 || percentile.From > percentile.To)
            {
                errors.Add($"{path}.percentile[{i}]", "'from' and 'to' must be percentages (0-100) with from <= to.");
            }
        }
    }
}
