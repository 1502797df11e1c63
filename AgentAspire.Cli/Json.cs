using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AgentAspire.Cli;

/// <summary>JSON helpers: the web serializer settings, safe property reads, and a YAML writer for <c>-o yaml</c>.</summary>
internal static class Json
{
    // Relaxed escaping: output is for terminals and files, not for embedding in HTML ("+01:00", not "\u002B01:00").
    public static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static readonly JsonSerializerOptions Compact = new(Web) { WriteIndented = false };

    public static string Indented(JsonElement element) => JsonSerializer.Serialize(element, Web);

    public static JsonElement? Prop(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public static string Str(this JsonElement element, string name, string fallback = "") =>
        element.Prop(name) is { } value ? value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText() : fallback;

    public static long Long(this JsonElement element, string name, long fallback = 0) =>
        element.Prop(name) is { ValueKind: JsonValueKind.Number } value ? value.GetInt64() : fallback;

    public static double? Double(this JsonElement element, string name) =>
        element.Prop(name) is { ValueKind: JsonValueKind.Number } value ? value.GetDouble() : null;

    public static IEnumerable<JsonElement> Items(this JsonElement? element) =>
        element is { ValueKind: JsonValueKind.Array } array ? array.EnumerateArray() : [];

    public static IEnumerable<JsonElement> Items(this JsonElement element) => Items((JsonElement?)element);

    /// <summary>
    /// YAML for a JSON value. Every string is written double-quoted with JSON escapes (valid YAML, and never misread as
    /// a number, a boolean or null); keys likewise unless they are plain identifiers.
    /// </summary>
    public static string ToYaml(JsonElement element)
    {
        var builder = new StringBuilder();
        WriteYaml(builder, element, indent: 0, inSequence: false);
        return builder.ToString();
    }

    private static void WriteYaml(StringBuilder builder, JsonElement element, int indent, bool inSequence)
    {
        var pad = new string(' ', indent);
        switch (element.ValueKind)
        {
            case JsonValueKind.Object when element.EnumerateObject().Any():
                var first = true;
                foreach (var property in element.EnumerateObject())
                {
                    builder.Append(first && inSequence ? "" : pad).Append(Key(property.Name)).Append(':');
                    first = false;
                    WriteValue(builder, property.Value, indent);
                }

                break;
            case JsonValueKind.Array when element.GetArrayLength() > 0:
                foreach (var item in element.EnumerateArray())
                {
                    builder.Append(pad).Append("- ");
                    if (item.ValueKind is JsonValueKind.Object && item.EnumerateObject().Any())
                    {
                        WriteYaml(builder, item, indent + 2, inSequence: true);
                    }
                    else if (item.ValueKind is JsonValueKind.Array && item.GetArrayLength() > 0)
                    {
                        builder.Append('\n');
                        WriteYaml(builder, item, indent + 2, inSequence: false);
                    }
                    else
                    {
                        builder.Append(Scalar(item)).Append('\n');
                    }
                }

                break;
            default:
                builder.Append(pad).Append(Scalar(element)).Append('\n');
                break;
        }
    }

    private static void WriteValue(StringBuilder builder, JsonElement value, int indent)
    {
        if (value.ValueKind is JsonValueKind.Object && value.EnumerateObject().Any())
        {
            builder.Append('\n');
            WriteYaml(builder, value, indent + 2, inSequence: false);
        }
        else if (value.ValueKind is JsonValueKind.Array && value.GetArrayLength() > 0)
        {
            builder.Append('\n');
            WriteYaml(builder, value, indent, inSequence: false);
        }
        else
        {
            builder.Append(' ').Append(Scalar(value)).Append('\n');
        }
    }

    private static string Key(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') && !char.IsAsciiDigit(name[0])
            ? name
            : JsonSerializer.Serialize(name, Web);

    private static string Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => JsonSerializer.Serialize(value.GetString(), Web),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Object => "{}",
        JsonValueKind.Array => "[]",
        _ => "null",
    };

    public static string Percent(long basisPoints) =>
        (basisPoints / 100.0).ToString(basisPoints % 100 == 0 ? "0" : "0.##", CultureInfo.InvariantCulture) + "%";
}
