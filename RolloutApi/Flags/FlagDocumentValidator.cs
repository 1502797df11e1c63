using System.Text.Json;
using System.Text.RegularExpressions;
using AgentAspire.Contracts;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;
using RolloutApi.Rollouts;
using ServiceDefaults.Flags;

namespace RolloutApi.Flags;

/// <summary>
/// Checks a <c>feature_management</c> object before it is stored, so that agents never receive a flag they would have to
/// switch off: the schema's shape (exact, lower-case property names, as the schema spells them), then Microsoft.FeatureManagement's
/// own parser on an in-memory configuration (exactly what an agent runs), then each filter: a name agents have
/// (<see cref="FlagFilterNames"/>) and parameters that the library's own binders accept.
/// </summary>
/// <remarks>Errors are keyed by JSON path (e.g. <c>feature_management.feature_flags[0].conditions.client_filters[1].name</c>).</remarks>
public static partial class FlagDocumentValidator
{
    public const int MaxFlags = 500;
    public const string IdRule = "1-128 characters: letters, digits, '.', '_' or '-', starting with a letter or digit";

    private const string Root = FlagSchema.Section;

    private static readonly string[] FilterNames =
        [FlagFilterNames.Track, FlagFilterNames.Percentage, FlagFilterNames.Targeting, FlagFilterNames.TimeWindow];

    private static readonly HashSet<string> FlagProperties =
        ["id", "description", "display_name", "enabled", "conditions", "variants", "allocation", "telemetry"];

    private static readonly HashSet<string> ConditionProperties = ["client_filters", "requirement_type"];
    private static readonly HashSet<string> FilterProperties = ["name", "parameters"];
    private static readonly HashSet<string> VariantProperties = ["name", "configuration_value", "status_override"];

    private static readonly HashSet<string> AllocationProperties =
        ["default_when_enabled", "default_when_disabled", "user", "group", "percentile", "seed"];

    /// <summary>Whether <paramref name="flag"/> is a name a flag can have.</summary>
    public static bool IsValidId(string? flag) => flag is not null && FlagId().IsMatch(flag);

    /// <summary>The document, or the problems with it (by JSON path) and no document.</summary>
    public static (FlagDocument? Document, Dictionary<string, string[]> Errors) Validate(JsonElement featureManagement)
    {
        var errors = new Errors();
        if (featureManagement.ValueKind != JsonValueKind.Object)
        {
            errors.Add(Root, $"'{Root}' must be a JSON object such as {{\"{FlagSchema.FeatureFlags}\": []}}; it is {Kind(featureManagement)}.");
            return (null, errors.ToDictionary());
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
                errors.Add($"{Root}.{property.Name}",
                    $"Unknown property '{property.Name}': the schema has only '{FlagSchema.FeatureFlags}' (the older \"FeatureManagement\" format is not accepted).");
            }
        }

        var flags = new List<FlagEntry>();
        if (array is { } list)
        {
            if (list.ValueKind != JsonValueKind.Array)
            {
                errors.Add($"{Root}.{FlagSchema.FeatureFlags}", $"'{FlagSchema.FeatureFlags}' must be an array; it is {Kind(list)}.");
            }
            else if (list.GetArrayLength() > MaxFlags)
            {
                errors.Add($"{Root}.{FlagSchema.FeatureFlags}", $"At most {MaxFlags} flags per document.");
            }
            else
            {
                var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
                var index = 0;
                foreach (var flag in list.EnumerateArray())
                {
                    var path = $"{Root}.{FlagSchema.FeatureFlags}[{index}]";
                    if (ValidateFlag(flag, path, errors) is { } id)
                    {
                        if (seen.TryGetValue(id, out var first))
                        {
                            errors.Add($"{path}.id", $"Flag '{id}' is also defined at index {first}; ids are unique (ignoring case).");
                        }
                        else
                        {
                            seen[id] = index;
                            flags.Add(new FlagEntry(id, flag.Clone()));
                        }
                    }

                    index++;
                }
            }
        }

        return errors.Count == 0 ? (FlagDocument.From(flags), []) : (null, errors.ToDictionary());
    }

    /// <summary>Checks one flag; returns its id when the flag is valid.</summary>
    private static string? ValidateFlag(JsonElement flag, string path, Errors errors)
    {
        if (flag.ValueKind != JsonValueKind.Object)
        {
            errors.Add(path, $"A flag must be a JSON object; it is {Kind(flag)}.");
            return null;
        }

        var before = errors.Count;
        CheckProperties(flag, path, FlagProperties, errors);
        string? id = null;
        if (!flag.TryGetProperty("id", out var idElement) || idElement.ValueKind != JsonValueKind.String || !IsValidId(idElement.GetString()))
        {
            errors.Add($"{path}.id", $"Every flag needs an 'id' of {IdRule}.");
        }
        else
        {
            id = idElement.GetString()!;
        }

        ExpectKind(flag, "enabled", path, errors, JsonValueKind.True, JsonValueKind.False);
        ExpectKind(flag, "description", path, errors, JsonValueKind.String);
        ExpectKind(flag, "display_name", path, errors, JsonValueKind.String);
        ExpectKind(flag, "telemetry", path, errors, JsonValueKind.Object);
        var variants = ValidateVariants(flag, path, errors);
        if (flag.TryGetProperty("conditions", out var conditions))
        {
            ValidateConditions(conditions, $"{path}.conditions", errors);
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

        // The library's parser runs only on a flag whose shape is right, so that its messages are about meaning.
        if (errors.Count == before && id is not null)
        {
            ValidateWithLibrary(flag, path, variants, errors);
        }

        return errors.Count == before ? id : null;
    }

    private static HashSet<string> ValidateVariants(JsonElement flag, string path, Errors errors)
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

    private static void ValidateConditions(JsonElement conditions, string path, Errors errors)
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
            else if (KnownFilter(name.GetString()) is null)
            {
                errors.Add($"{filterPath}.name", $"Unknown filter '{name.GetString()}'; agents have {string.Join(", ", FilterNames)}.");
            }
        }
    }

    /// <summary>
    /// Parses the flag as an agent will (Microsoft.FeatureManagement's configuration provider over an in-memory
    /// configuration), materialises what the library leaves lazy, and binds each filter's parameters with the library's binders.
    /// </summary>
    private static void ValidateWithLibrary(JsonElement flag, string path, HashSet<string> variants, Errors errors)
    {
        FeatureDefinition definition;
        try
        {
            definition = Parse(flag);
        }
        catch (Exception e)
        {
            // Whatever the library throws on this flag, an agent's evaluation would throw too: the flag is refused.
            errors.Add(path, e.Message);
            return;
        }

        if (definition.Allocation is { } allocation)
        {
            ValidateAllocation(allocation, $"{path}.allocation", variants, errors);
        }

        var index = 0;
        foreach (var filter in definition.EnabledFor)
        {
            // "enabled": true without client filters parses as the library's own AlwaysOn filter: nothing to bind.
            if (KnownFilter(filter.Name) is not { } name)
            {
                continue;
            }

            var parametersPath = $"{path}.conditions.client_filters[{index++}].parameters";
            try
            {
                if (CheckParameters(name, filter.Parameters) is { } problem)
                {
                    errors.Add(parametersPath, problem);
                }
            }
            catch (Exception e)
            {
                errors.Add(parametersPath, e.Message);
            }
        }
    }

    private static FeatureDefinition Parse(JsonElement flag)
    {
        var stream = new MemoryStream();
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
        var definition = provider.GetAllFeatureDefinitionsAsync().ToBlockingEnumerable().Single();

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

    private static void ValidateAllocation(Allocation allocation, string path, HashSet<string> variants, Errors errors)
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

    /// <summary>Binds a filter's parameters as the agent will; returns a problem in words, or null.</summary>
    private static string? CheckParameters(string filter, IConfiguration parameters)
    {
        switch (filter)
        {
            case FlagFilterNames.Track:
                var track = parameters.Get<TrackFilterSettings>() ?? new TrackFilterSettings();
                if (track.Tracks is not { Length: > 0 } && track.Versions is not { Length: > 0 })
                {
                    return $"Name '{FlagFilterNames.TracksParameter}' and/or '{FlagFilterNames.VersionsParameter}'; a filter with neither matches nothing.";
                }

                if (track.Tracks?.FirstOrDefault(t => !Tracks.IsKnown(t)) is { } unknownTrack)
                {
                    return $"'{unknownTrack}' is not a track ('{Tracks.Stable}' or '{Tracks.Canary}').";
                }

                return track.Versions?.FirstOrDefault(v => !RevisionRules.IsValidVersion(v)) is { } badVersion
                    ? $"'{badVersion}' is not a version label ({RevisionRules.VersionRule})."
                    : null;

            case FlagFilterNames.Percentage:
                if (parameters["Value"] is null)
                {
                    return "'Value' (the percentage, 0-100) is required.";
                }

                var percentage = (PercentageFilterSettings)new PercentageFilter().BindParameters(parameters);
                return percentage.Value is < 0 or > 100 ? "'Value' must be between 0 and 100." : null;

            case FlagFilterNames.TimeWindow:
                // The library's binder also checks a recurrence and throws ArgumentException when it is invalid.
                var window = (TimeWindowFilterSettings)new TimeWindowFilter().BindParameters(parameters);
                if (window.Start is null && window.End is null)
                {
                    return "Name 'Start' and/or 'End' (RFC 1123 dates such as \"Mon, 01 Jun 2026 00:00:00 GMT\").";
                }

                return window.Start >= window.End ? "'End' must be after 'Start'." : null;

            default:
                var targeting = new ContextualTargetingFilter();
                var settings = (TargetingFilterSettings)targeting.BindParameters(parameters);
                if (settings.Audience is null)
                {
                    return "'Audience' is required: {\"Users\": [], \"Groups\": [{\"Name\": \"acme\", \"RolloutPercentage\": 100}], \"DefaultRolloutPercentage\": 0}.";
                }

                // The library validates targeting settings when it evaluates them (percentages in range, ...): a probe
                // evaluation throws ArgumentException exactly where an agent's evaluation would.
                _ = targeting.EvaluateAsync(
                    new FeatureFilterEvaluationContext { FeatureName = "validation", Parameters = parameters, Settings = settings },
                    new TargetingContext { UserId = "validation", Groups = [] }).GetAwaiter().GetResult();
                return null;
        }
    }

    private static string? KnownFilter(string? name) =>
        FilterNames.FirstOrDefault(known => string.Equals(known, name, StringComparison.OrdinalIgnoreCase));

    private static void CheckProperties(JsonElement element, string path, HashSet<string> allowed, Errors errors)
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

    private static void ExpectKind(JsonElement element, string property, string path, Errors errors, params JsonValueKind[] kinds)
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

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\\z")]
    private static partial Regex FlagId();

    /// <summary>Problems by JSON path; a path with several problems keeps them all.</summary>
    private sealed class Errors
    {
        private readonly Dictionary<string, List<string>> _byPath = new(StringComparer.Ordinal);

        public int Count { get; private set; }

        public void Add(string path, string message)
        {
            if (!_byPath.TryGetValue(path, out var messages))
            {
                _byPath[path] = messages = [];
            }

            messages.Add(message);
            Count++;
        }

        public Dictionary<string, string[]> ToDictionary() => _byPath.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal);
    }
}
