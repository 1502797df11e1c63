namespace RolloutApi.Http;

/// <summary>The result of an operation: a value, or the reason nothing changed.</summary>
public readonly record struct Outcome<T>
{
    private Outcome(T? value, OperationError? error)
    {
        Value = value;
        Error = error;
    }

    public T? Value { get; }

    public OperationError? Error { get; }

    public static implicit operator Outcome<T>(T value) => new(value, null);

    public static implicit operator Outcome<T>(OperationError error) => new(default, error);

    /// <summary>Continues with <paramref name="next"/> when this succeeded; a refusal passes through unchanged.</summary>
    public async Task<Outcome<TNext>> ThenAsync<TNext>(Func<T, Task<TNext>> next) =>
        Error is { } error ? error : await next(Value!);
}
