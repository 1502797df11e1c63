namespace ServiceDefaults.Http;

/// <summary>
/// Validation messages keyed by the JSON path of the offending field (e.g. <c>items[2].id</c>), as a validation problem
/// (RFC 7807 <c>errors</c>) reports them. A path with several problems keeps them all, in the order they were found.
/// </summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _byPath = new(StringComparer.Ordinal);

    /// <summary>True until the first message is added.</summary>
    public bool IsEmpty => Count == 0;

    /// <summary>How many messages were added (over all paths).</summary>
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

    /// <summary>The messages by path, in the shape <c>TypedResults.ValidationProblem</c> and problem details take.</summary>
    public Dictionary<string, string[]> ToDictionary() =>
        _byPath.ToDictionary(pair => pair.Key, pair => pair.Value.ToArray(), StringComparer.Ordinal);
}
