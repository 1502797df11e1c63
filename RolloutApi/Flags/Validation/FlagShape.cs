using System.Text.Json;
using AgentAspire.Contracts;
using RolloutApi.Flags.Validation.Filters;
using ServiceDefaults.Http;

namespace RolloutApi.Flags.Validation;

/// <summary>
/// The first pass: the schema's shape, before any library sees the flag, so that the messages name exact JSON paths.
/// Property names are exact and lower-case, as the schema spells them; kinds are checked; filter names are ones agents have.
/// </summary>
internal static class FlagShape
{
    private static readonly HashSet<string> FlagProperties =
        ["id", "description", "display_name", "enabled", "conditions", "variants", "allocation", "telemetry"];

    private static readonly HashSet<string> ConditionProperties = ["client_filters", "requirement_type"];
    private static readonly HashSet<string> FilterProperties = ["name", "parameters"];
    private static readonly HashSet<string> VariantProperties = ["name", "configuration_value", "status_override"];

    private static readonly HashSet<string> AllocationProperties =
        ["default_when_enabled", "default_when_disabled", "user", "group", "percentile", "seed"];

    /// <summary>The flags array of a <c>feature_management</c> object, or null (with errors) when there is none to check.</summary>
    public static JsonElement? FlagArray(JsonElement featureManagement, string root, ValidationErrors errors)
    {
        if (featureManagement.ValueKind != JsonValueKind.Object)
        {
            errors.Add(root, $"'{root}' must be a JSON object such as {{\"{FlagSchema.FeatureFlags}\": []}}; it is {Kind(featureManagement)}.");
            return null;
        }

        JsonElement? array = null;
        foreach (var property in featureManagement.EnumerateObject())
        {
            if (property.NameEquals(FlagSchema.FeatureFlags))
            {
                array = property.Value;
            }
            else
            {
                errors.Add($"{root}.{property.Name}",
                    $"Unknown property '{property.Name}': the schema has only '{FlagSchema.FeatureFlags}' (the older \"FeatureManagement\" format is not accepted).");
            }
        }

        if (array is not { } list)
        {
            return null;
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"{root}.{FlagSchema.FeatureFlags}", $"'{FlagSchema.FeatureFlags}' must be an array; it is {Kind(list)}.");
            return null;
        }

        if (list.GetArrayLength() > FlagDocumentValidator.MaxFlags)
        {
            errors.Add($"{root}.{FlagSchema.FeatureFlags}", $"At most {FlagDocumentValidator.MaxFlags} flags per document.");
            return null;
        }

        return list;
    }

    /// <summary>Checks one flag's shape; returns its id and variant names when nothing was wrong with it.</summary>
    public static ShapedFlag? Check(JsonElement flag, string path, ValidationErrors errors)
    {
        if (flag.ValueKind != JsonValueKind.Object)
        {
            errors.Add(path, $"A flag must be a JSON object; it is {Kind(flag)}.");
            return null;
        }

        var before = errors.Count;
        CheckProperties(flag, path, FlagProperties, errors);
        string? id = null;
        if (!flag.TryGetProperty("id", out var idElement) || idElement.ValueKind != JsonValueKind.String || !FlagDocumentValidator.IsValidId(idElement.GetString()))
        {
            errors.Add($"{path}.id", $"Every flag needs an 'id' of {FlagDocumentValidator.IdRule}.");
        }
        else
        {
            id = idElement.GetString()!;
        }

        ExpectKind(flag, "enabled", path, errors, JsonValueKind.True, JsonValueKind.False);
        ExpectKind(flag, "description", path, errors, JsonValueKind.String);
        ExpectKind(flag, "display_name", path, errors, JsonValueKind.String);
        ExpectKind(flag, "telemetry", path, errors, JsonValueKind.Object);
        var variants = CheckVariants(flag, path, errors);
        if (flag.TryGetProperty("conditions", out var conditions))
        {
            CheckConditions(conditions, $"{path}.conditions", errors);
        }

        if (flag.TryGetProperty("allocation", out var allocation))
        {
            if (allocation.ValueKind == JsonValueKind.Object)
            {
                CheckProperties(allocation, $"{path}.allocation", AllocationProperties, errors);
            }
            else
            {
                errors.Add($"{path}.allocation", $"'allocation' must be an object; it is {Kind(allocation)}.");
            }
        }

        return errors.Count == before && id is not null ? new ShapedFlag(id, variants) : null;
    }

    private static HashSet<string> CheckVariants(JsonElement flag, string path, ValidationErrors errors)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (!flag.TryGetProperty("variants", out var variants))
        {
            return names;
        }

        if (variants.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"{path}.variants", $"'variants' must be an array; it is {Kind(variants)}.");
            return names;
        }

        var index = 0;
        foreach (var variant in variants.EnumerateArray())
        {
            var variantPath = $"{path}.variants[{index++}]";
            if (variant.ValueKind != JsonValueKind.Object)
            {
                errors.Add(variantPath, $"A variant must be an object; it is {Kind(variant)}.");
                continue;
            }

            CheckProperties(variant, variantPath, VariantProperties, errors);
            if (!variant.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(name.GetString()))
            {
                errors.Add($"{variantPath}.name", "Every variant needs a non-empty 'name'.");
            }
            else if (!names.Add(name.GetString()!))
            {
                errors.Add($"{variantPath}.name", $"Variant '{name.GetString()}' is defined twice.");
            }

            ExpectKind(variant, "status_override", variantPath, errors, JsonValueKind.String);
        }

        return names;
    }

    private static void CheckConditions(JsonElement conditions, string path, ValidationErrors errors)
    {
        if (conditions.ValueKind != JsonValueKind.Object)
        {
            errors.Add(path, $"'conditions' must be an object; it is {Kind(conditions)}.");
            return;
        }

        CheckProperties(conditions, path, ConditionProperties, errors);
        ExpectKind(conditions, "requirement_type", path, errors, JsonValueKind.String);
        if (!conditions.TryGetProperty("client_filters", out var filters))
        {
            return;
        }

        if (filters.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"{path}.client_filters", $"'client_filters' must be an array; it is {Kind(filters)}.");
            return;
        }

        var index = 0;
        foreach (var filter in filters.EnumerateArray())
        {
            var filterPath = $"{path}.client_filters[{index++}]";
            if (filter.ValueKind != JsonValueKind.Object)
            {
                errors.Add(filterPath, $"A filter must be an object; it is {Kind(filter)}.");
                continue;
            }

            CheckProperties(filter, filterPath, FilterProperties, errors);
            ExpectKind(filter, "parameters", filterPath, errors, JsonValueKind.Object);
            if (!filter.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
            {
                errors.Add($"{filterPath}.name", "Every filter needs a 'name'.");
            }
            else if (FlagFilterValidators.Find(name.GetString()) is null)
            {
                errors.Add($"{filterPath}.name", $"Unknown filter '{name.GetString()}'; agents have {FlagFilterValidators.Names}.");
            }
        }
    }

    private static void CheckProperties(JsonElement element, string path, HashSet<string> allowed, ValidationErrors errors)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (!allowed.Contains(property.Name))
            {
                errors.Add($"{path}.{property.Name}",
                    $"Unknown property '{property.Name}'; allowed here: {string.Join(", ", allowed)} (names are lower-case, as in the schema).");
            }
        }
    }

    private static void ExpectKind(JsonElement element, string property, string path, ValidationErrors errors, params JsonValueKind[] kinds)
    {
        if (element.TryGetProperty(property, out var value) && !kinds.Contains(value.ValueKind))
        {
            var expected = kinds.Contains(JsonValueKind.True) ? "a boolean" : kinds[0] == JsonValueKind.String ? "a string" : "an object";
            errors.Add($"{path}.{property}", $"'{property}' must be {expected}; it is {Kind(value)}.");
        }
    }

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.Undefined => "missing",
        var kind => $"a {kind.ToString().ToLowerInvariant()}",
    };
}

/// <summary>A flag whose shape is right: its id, and the names of its variants (allocations must name one of them).</summary>
internal sealed record ShapedFlag(string Id, HashSet<string> Variants);
