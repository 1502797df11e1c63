using System.Text.Json;
using System.Text.RegularExpressions;
using AgentAspire.Contracts;
using ServiceDefaults.Http;

namespace RolloutApi.Flags.Validation;

/// <summary>
/// Checks a <c>feature_management</c> object before it is stored, so that agents never receive a flag they would have to
/// switch off. Three passes per flag: the schema's shape (<see cref="FlagShape"/>), then Microsoft.FeatureManagement's own
/// parser on an in-memory configuration, exactly what an agent runs (<see cref="FlagDefinitionCheck"/>), then each filter's
/// parameters, by the validator of the filter's name (<see cref="Filters.FlagFilterValidators"/>).
/// </summary>
/// <remarks>Errors are keyed by JSON path (e.g. <c>feature_management.feature_flags[0].conditions.client_filters[1].name</c>).</remarks>
public static partial class FlagDocumentValidator
{
    public const int MaxFlags = 500;
    public const string IdRule = "1-128 characters: letters, digits, '.', '_' or '-', starting with a letter or digit";

    private const string Root = FlagSchema.Section;

    /// <summary>Whether <paramref name="flag"/> is a name a flag can have.</summary>
    public static bool IsValidId(string? flag) => flag is not null && FlagId().IsMatch(flag);

    /// <summary>The document, or the problems with it (by JSON path) and no document.</summary>
    public static async Task<FlagValidation> ValidateAsync(JsonElement featureManagement, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var flags = new List<FlagEntry>();
        if (FlagShape.FlagArray(featureManagement, Root, errors) is { } list)
        {
            var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            var index = 0;
            foreach (var flag in list.EnumerateArray())
            {
                var path = $"{Root}.{FlagSchema.FeatureFlags}[{index}]";
                if (await ValidateFlagAsync(flag, path, errors, cancellationToken) is { } id)
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

        return errors.IsEmpty ? new FlagValidation(FlagDocument.From(flags), []) : new FlagValidation(null, errors.ToDictionary());
    }

    /// <summary>Checks one flag; returns its id when the flag is valid.</summary>
    private static async Task<string?> ValidateFlagAsync(JsonElement flag, string path, ValidationErrors errors, CancellationToken cancellationToken)
    {
        // The library's parser runs only on a flag whose shape is right, so that its messages are about meaning.
        if (FlagShape.Check(flag, path, errors) is not { } shape)
        {
            return null;
        }

        var before = errors.Count;
        await FlagDefinitionCheck.CheckAsync(flag, shape, path, errors, cancellationToken);
        return errors.Count == before ? shape.Id : null;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\\z")]
    private static partial Regex FlagId();
}

/// <summary>A validated document, or the problems by JSON path (and no document).</summary>
public sealed record FlagValidation(FlagDocument? Document, Dictionary<string, string[]> Errors);
