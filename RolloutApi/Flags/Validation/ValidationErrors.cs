namespace RolloutApi.Flags.Validation;

/// <summary>Problems by JSON path; a path with several problems keeps them all.</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _byPath = new(StringComparer.Ordinal);

    public bool IsEmpty => Count == 0;

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
