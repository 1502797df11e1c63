namespace RolloutApi.Http;

/// <summary>Endpoint metadata: the endpoint reads <c>If-Match</c> (a <see cref="Precondition"/> parameter).</summary>
public sealed class IfMatchHeader
{
    public static readonly IfMatchHeader Instance = new();

    private IfMatchHeader()
    {
    }
}
