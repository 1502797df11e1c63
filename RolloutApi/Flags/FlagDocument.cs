using System.Text.Json;
using AgentAspire.Contracts;

namespace RolloutApi.Flags;

/// <summary>One flag of a <c>feature_management</c> object: its id and its definition, kept verbatim.</summary>
public sealed record FlagEntry(string Id, JsonElement Definition);

/// <summary>
/// A <c>feature_management</c> object (Microsoft.FeatureManagement's schema) that has passed
/// <see cref="Validation.FlagDocumentValidator"/>: its flags in document order, each definition carried verbatim, and one compact
/// JSON spelling (<c>{"feature_flags":[...]}</c>) that is what gets stored and served.
/// </summary>
public sealed class FlagDocument
{
    private const string EnabledProperty = "enabled";
    private const string IdProperty = "id";

    private FlagDocument(IReadOnlyList<FlagEntry> flags)
    {
        Flags = flags;
        Json = Write(flags);
        using var parsed = JsonDocument.Parse(Json);
        Element = parsed.RootElement.Clone();
    }

    /// <summary>No flags: what a revision without a flag set ships, and the agent-level definitions until someone sets them.</summary>
    public static FlagDocument Empty { get; } = new([]);

    public IReadOnlyList<FlagEntry> Flags { get; }

    /// <summary>The compact JSON of the document.</summary>
    public string Json { get; }

    /// <summary>The document as a JSON element (detached; safe to keep).</summary>
    public JsonElement Element { get; }

    /// <summary>Wraps flags that were validated already (by <see cref="Validation.FlagDocumentValidator"/> or on the way into storage).</summary>
    internal static FlagDocument From(IReadOnlyList<FlagEntry> flags) => flags.Count == 0 ? Empty : new FlagDocument(flags);

    /// <summary>Reads a document this service stored (validated when it was written).</summary>
    public static FlagDocument Load(string json)
    {
        using var parsed = JsonDocument.Parse(json);
        if (!parsed.RootElement.TryGetProperty(FlagSchema.FeatureFlags, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            return Empty;
        }

        return From([.. array.EnumerateArray().Select(flag => new FlagEntry(flag.GetProperty(IdProperty).GetString()!, flag.Clone()))]);
    }

    public bool Defines(string flag) => Flags.Any(f => string.Equals(f.Id, flag, StringComparison.OrdinalIgnoreCase));

    public bool SameAs(FlagDocument other) => JsonElement.DeepEquals(Element, other.Element);

    /// <summary>
    /// The flag set a track serves: <paramref name="revisionSet"/>'s flags, each replaced by the agent-level definition of the
    /// same id (ids compare as Microsoft.FeatureManagement compares them, ignoring case), then the agent-level flags the
    /// revision does not have; every flag a kill switch covers here is <c>"enabled": false</c>, the rest of its definition
    /// unchanged (so a variant <c>default_when_disabled</c> still applies, as the schema says).
    /// </summary>
    public static FlagDocument Compose(
        FlagDocument revisionSet, FlagDocument overrides, IReadOnlyList<FlagKill> kills, string track, int? revision)
    {
        var flags = new List<FlagEntry>(revisionSet.Flags.Count + overrides.Flags.Count);
        var positions = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var flag in revisionSet.Flags.Concat(overrides.Flags))
        {
            if (positions.TryGetValue(flag.Id, out var position))
            {
                flags[position] = flag;
            }
            else
            {
                positions[flag.Id] = flags.Count;
                flags.Add(flag);
            }
        }

        for (var i = 0; i < flags.Count; i++)
        {
            var flag = flags[i];
            if (kills.Any(kill => kill.Kills(flag.Id, track, revision)))
            {
                flags[i] = flag with { Definition = Disabled(flag.Definition) };
            }
        }

        return From(flags);
    }

    private static JsonElement Disabled(JsonElement definition)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            var written = false;
            foreach (var property in definition.EnumerateObject())
            {
                if (property.NameEquals(EnabledProperty))
                {
                    writer.WriteBoolean(EnabledProperty, false);
                    written = true;
                }
                else
                {
                    property.WriteTo(writer);
                }
            }

            if (!written)
            {
                writer.WriteBoolean(EnabledProperty, false);
            }

            writer.WriteEndObject();
        }

        using var parsed = JsonDocument.Parse(buffer.WrittenMemory);
        return parsed.RootElement.Clone();
    }

    private static string Write(IReadOnlyList<FlagEntry> flags)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray(FlagSchema.FeatureFlags);
            foreach (var flag in flags)
            {
                flag.Definition.WriteTo(writer);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
