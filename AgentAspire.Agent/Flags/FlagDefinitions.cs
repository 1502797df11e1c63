using System.Collections.Frozen;
using System.Text.Json;
using AgentAspire.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.FeatureManagement;

namespace AgentAspire.Agent.Flags;

/// <summary>
/// The feature definitions of one snapshot, parsed once and frozen: lookups on the evaluation path are a dictionary
/// read with no locks and no allocation.
/// </summary>
internal sealed class FlagDefinitions
{
    // The library's interface is not nullable-annotated; a missing flag is a completed task of null.
    private static readonly Task<FeatureDefinition> Missing = Task.FromResult<FeatureDefinition>(null!);

    private readonly FrozenDictionary<string, Task<FeatureDefinition>> _byName;
    private readonly FeatureDefinition[] _all;

    private FlagDefinitions(IEnumerable<FeatureDefinition> parsed)
    {
        // Names compare as Microsoft.FeatureManagement compares them (ignoring case); a later duplicate wins, as it does there.
        var ordered = new List<FeatureDefinition>();
        var positions = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var definition in parsed)
        {
            if (positions.TryGetValue(definition.Name, out var position))
            {
                ordered[position] = definition;
            }
            else
            {
                positions[definition.Name] = ordered.Count;
                ordered.Add(definition);
            }
        }

        _all = [.. ordered];
        _byName = ordered.ToFrozenDictionary(
            d => d.Name, d => Task.FromResult(d), StringComparer.OrdinalIgnoreCase);
    }

    public int Count => _all.Length;

    public Task<FeatureDefinition> Find(string featureName) =>
        _byName.TryGetValue(featureName, out var definition) ? definition : Missing;

    public IAsyncEnumerable<FeatureDefinition> All() => _all.ToAsyncEnumerable();

    /// <summary>
    /// Parses a <c>feature_management</c> object with the library's own configuration parser, so that the schema means
    /// exactly what it means in appsettings.json. Throws on anything the library would reject at evaluation time.
    /// </summary>
    public static FlagDefinitions Parse(JsonElement featureManagement)
    {
        if (featureManagement.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"'{FlagSchema.Section}' must be a JSON object; it is {featureManagement.ValueKind}.");
        }

        if (featureManagement.TryGetProperty(FlagSchema.FeatureFlags, out var flags)
            && flags.ValueKind is not (JsonValueKind.Array or JsonValueKind.Null))
        {
            throw new FormatException($"'{FlagSchema.Section}.{FlagSchema.FeatureFlags}' must be a JSON array; it is {flags.ValueKind}.");
        }

        // A configuration of its own per snapshot: nothing of the agent's local configuration can leak into it, and
        // arrays are never merged by index with the shipped defaults.
        var configuration = new ConfigurationBuilder().AddJsonStream(Wrap(featureManagement)).Build();
        using var parser = new ConfigurationFeatureDefinitionProvider(configuration);
        var definitions = new List<FeatureDefinition>();
        foreach (var definition in parser.GetAllFeatureDefinitionsAsync().ToBlockingEnumerable())
        {
            definitions.Add(Freeze(definition));
        }

        return new FlagDefinitions(definitions);
    }

    private static MemoryStream Wrap(JsonElement featureManagement)
    {
        var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WritePropertyName(FlagSchema.Section);
            featureManagement.WriteTo(writer);
            writer.WriteEndObject();
        }

        stream.Position = 0;
        return stream;
    }

    // The library's parser leaves allocations as lazy queries over configuration, so a bad "from" would only throw
    // in the middle of a request. Materialising them here turns that into a rejected snapshot instead.
    private static FeatureDefinition Freeze(FeatureDefinition definition) => new()
    {
        Name = definition.Name,
        EnabledFor = [.. definition.EnabledFor],
        RequirementType = definition.RequirementType,
        Status = definition.Status,
        Variants = [.. definition.Variants],
        Telemetry = definition.Telemetry,
        Allocation = definition.Allocation is not { } allocation ? null : new Allocation
        {
            DefaultWhenEnabled = allocation.DefaultWhenEnabled,
            DefaultWhenDisabled = allocation.DefaultWhenDisabled,
            Seed = allocation.Seed,
            User = allocation.User?.Select(u => new UserAllocation { Variant = u.Variant, Users = u.Users?.ToArray() }).ToArray(),
            Group = allocation.Group?.Select(g => new GroupAllocation { Variant = g.Variant, Groups = g.Groups?.ToArray() }).ToArray(),
            Percentile = allocation.Percentile?.ToArray(),
        },
    };
}
