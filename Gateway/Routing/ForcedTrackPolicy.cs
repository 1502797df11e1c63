using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using AgentAspire.Contracts;
using Microsoft.Extensions.Options;

namespace Gateway.Routing;

/// <summary>
/// Who may force a track with <c>X-Agent-Track</c>: anyone (local development), or, in a published deployment, only a
/// caller with the secret token or a listed client id. Built once from configuration; asked only on requests that carry
/// the header, so requests without it pay nothing.
/// </summary>
public sealed class ForcedTrackPolicy
{
    private readonly bool _anonymous;
    private readonly byte[]? _token;
    private readonly FrozenSet<string> _clientIds;

    public ForcedTrackPolicy(IOptions<GatewayOptions> options)
    {
        var o = options.Value.ForcedTrack;
        _anonymous = o.AllowAnonymous;
        _token = string.IsNullOrEmpty(o.Token) ? null : Encoding.UTF8.GetBytes(o.Token);
        _clientIds = o.ClientIds.Where(id => !string.IsNullOrWhiteSpace(id)).ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>Whether <paramref name="request"/> may force a track; a request that may not is routed as if it had not asked.</summary>
    public bool Allows(HttpRequest request)
    {
        if (_anonymous)
        {
            return true;
        }

        if (_token is not null && request.Headers[AgentHeaders.TrackToken] is { Count: > 0 } token && Matches(token[0]))
        {
            return true;
        }

        return _clientIds.Count > 0 && request.Headers[AgentHeaders.ClientId] is { Count: > 0 } id && id[0] is { } clientId
            && _clientIds.Contains(clientId);
    }

    private bool Matches(string? presented)
    {
        if (presented is null)
        {
            return false;
        }

        // Constant time, so the token cannot be guessed a byte at a time from response timings.
        Span<byte> buffer = stackalloc byte[256];
        var count = Encoding.UTF8.GetMaxByteCount(presented.Length) <= buffer.Length
            ? Encoding.UTF8.GetBytes(presented, buffer)
            : -1;
        return count >= 0 && CryptographicOperations.FixedTimeEquals(buffer[..count], _token);
    }
}
