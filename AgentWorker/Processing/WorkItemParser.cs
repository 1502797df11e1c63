using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ServiceDefaults.Http;

namespace AgentWorker.Processing;

/// <summary>
/// Validates a <see cref="WorkItemRequest"/> and normalises it into a <see cref="WorkItem"/>, collecting every
/// problem at once (a client fixes its request in one round trip, not one field per attempt).
/// </summary>
public sealed partial class WorkItemParser(TimeProvider timeProvider)
{
    /// <summary>Returns the normalised item, or null with the reasons added to <paramref name="errors"/>.</summary>
    /// <param name="prefix">The item's JSON path inside the request, e.g. <c>items[3]</c>; empty for a single item.</param>
    public WorkItem? Parse(WorkItemRequest? request, string prefix, ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (request is null)
        {
            errors.Add(Key(prefix, null), "A work item object is required.");
            return null;
        }

        var before = errors.Count;
        var id = ParseId(request.Id, prefix, errors);
        var kind = ParseKind(request.Kind, prefix, errors);
        var payload = ParsePayload(request.Payload, Key(prefix, "payload"), errors);
        return errors.Count == before && payload is not null
            ? new WorkItem(id ?? NewId(), kind!, payload)
            : null;
    }

    /// <summary>Collapses whitespace runs to one space, drops other control characters and trims.</summary>
    /// <remarks>
    /// No Unicode normalisation (NFC): the services run in invariant globalization mode (no ICU), where it is not available.
    /// </remarks>
    public static string NormalizeText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var builder = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(rune))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }

            if (Rune.IsControl(rune))
            {
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(rune.ToString());
        }

        return builder.ToString();
    }

    private static string? ParseId(string? raw, string prefix, ValidationErrors errors)
    {
        if (raw is null)
        {
            return null;
        }

        var id = raw.Trim();
        if (!IdPattern().IsMatch(id))
        {
            errors.Add(Key(prefix, "id"), $"The id must be 1 to {WorkItemLimits.MaxIdLength} characters: letters, digits, '.', '_', ':' or '-', starting with a letter or digit.");
            return null;
        }

        return id;
    }

    private static string? ParseKind(string? raw, string prefix, ValidationErrors errors)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            errors.Add(Key(prefix, "kind"), "The kind is required.");
            return null;
        }

        var kind = raw.Trim().ToLowerInvariant();
        if (!KindPattern().IsMatch(kind))
        {
            errors.Add(Key(prefix, "kind"), $"The kind must be 1 to {WorkItemLimits.MaxKindLength} characters: a letter, then letters, digits or '-'.");
            return null;
        }

        return kind;
    }

    private static WorkPayload? ParsePayload(PayloadRequest? raw, string prefix, ValidationErrors errors)
    {
        if (raw is null)
        {
            errors.Add(prefix, "The payload is required.");
            return null;
        }

        var text = ParseText(raw.Text, prefix, errors);
        var tags = ParseTags(raw.Tags, prefix, errors);
        var metadata = ParseMetadata(raw.Metadata, prefix, errors);
        return text is null || tags is null || metadata is null ? null : new WorkPayload(text, tags, metadata);
    }

    private static string? ParseText(string? raw, string prefix, ValidationErrors errors)
    {
        if (raw is null)
        {
            errors.Add(Key(prefix, "text"), "The text is required.");
            return null;
        }

        if (raw.Length > WorkItemLimits.MaxTextLength)
        {
            errors.Add(Key(prefix, "text"), $"The text must be at most {WorkItemLimits.MaxTextLength} characters.");
            return null;
        }

        var text = NormalizeText(raw);
        if (text.Length == 0)
        {
            errors.Add(Key(prefix, "text"), "The text must contain something besides whitespace.");
            return null;
        }

        return text;
    }

    private static List<string>? ParseTags(IReadOnlyList<string?>? raw, string prefix, ValidationErrors errors)
    {
        if (raw is null)
        {
            return [];
        }

        if (raw.Count > WorkItemLimits.MaxTags)
        {
            errors.Add(Key(prefix, "tags"), $"At most {WorkItemLimits.MaxTags} tags are allowed.");
            return null;
        }

        var tags = new SortedSet<string>(StringComparer.Ordinal);
        var valid = true;
        for (var i = 0; i < raw.Count; i++)
        {
            // "Machine Learning" and "machine-learning" are the same tag.
            var tag = raw[i] is { } value ? WhitespaceRun().Replace(value.Trim().ToLowerInvariant(), "-") : null;
            if (tag is null || !TagPattern().IsMatch(tag))
            {
                errors.Add($"{Key(prefix, "tags")}[{i}]", $"A tag must be 1 to {WorkItemLimits.MaxTagLength} characters: letters, digits, '.', '_' or '-'.");
                valid = false;
                continue;
            }

            tags.Add(tag);
        }

        return valid ? [.. tags] : null;
    }

    private static SortedDictionary<string, string>? ParseMetadata(IReadOnlyDictionary<string, string?>? raw, string prefix, ValidationErrors errors)
    {
        var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (raw is null)
        {
            return metadata;
        }

        var key = Key(prefix, "metadata");
        if (raw.Count > WorkItemLimits.MaxMetadataEntries)
        {
            errors.Add(key, $"At most {WorkItemLimits.MaxMetadataEntries} metadata entries are allowed.");
            return null;
        }

        var valid = true;
        foreach (var (rawName, rawValue) in raw)
        {
            var name = rawName.Trim().ToLowerInvariant();
            var entryKey = $"{key}.{rawName}";
            if (!MetadataKeyPattern().IsMatch(name))
            {
                errors.Add(entryKey, $"A metadata key must be 1 to {WorkItemLimits.MaxMetadataKeyLength} characters: a letter, then letters, digits, '.', '_' or '-'.");
                valid = false;
            }
            else if (rawValue is null || rawValue.Length > WorkItemLimits.MaxMetadataValueLength)
            {
                errors.Add(entryKey, $"A metadata value must be a string of at most {WorkItemLimits.MaxMetadataValueLength} characters.");
                valid = false;
            }
            else if (!metadata.TryAdd(name, NormalizeText(rawValue)))
            {
                errors.Add(entryKey, $"The metadata key '{name}' appears more than once (keys are case-insensitive).");
                valid = false;
            }
        }

        return valid ? metadata : null;
    }

    // Version 7: ids sort by acceptance time, which makes logs and status lists easier to read.
    private string NewId() => Guid.CreateVersion7(timeProvider.GetUtcNow()).ToString("N", CultureInfo.InvariantCulture);

    private static string Key(string prefix, string? field) =>
        (prefix.Length, field) switch
        {
            (0, null) => "$",
            (0, _) => field,
            (_, null) => prefix,
            _ => $"{prefix}.{field}",
        };

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"^[a-z][a-z0-9\-]{0,31}$", RegexOptions.CultureInvariant)]
    private static partial Regex KindPattern();

    [GeneratedRegex(@"^[\p{Ll}\p{Lo}\p{Nd}][\p{Ll}\p{Lo}\p{Nd}._\-]{0,31}$", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^[a-z][a-z0-9._\-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex MetadataKeyPattern();

    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant)]
    private static partial Regex WhitespaceRun();
}
