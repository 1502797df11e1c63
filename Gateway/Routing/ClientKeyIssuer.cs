using System.Buffers.Text;
using AgentAspire.Contracts;

namespace Gateway.Routing;

/// <summary>Issues the <c>aa-client</c> cookie to clients that arrive without a key, so browsers become sticky.</summary>
public interface IClientKeyIssuer
{
    /// <summary>
    /// A <c>Set-Cookie</c> value with a fresh random key. With <paramref name="matchTrack"/> the key's bucket agrees
    /// with <paramref name="track"/> at <paramref name="weight"/>, so the client's next request lands where this one did.
    /// </summary>
    string CreateSetCookie(Track track, int weight, bool matchTrack);
}

/// <summary>Random 16-character base64url keys; one string allocation per issued cookie.</summary>
internal sealed class ClientKeyIssuer(Random random) : IClientKeyIssuer
{
    /// <summary>How many keys to try for a matching bucket: the expected count is 10,000/share, so this only binds
    /// at shares below about 0.1%, where a mismatched first cookie costs one client one switch.</summary>
    internal const int MaxAttempts = 4096;

    private const int KeyBytes = 12;
    private const int KeyChars = 16;
    private const string Prefix = AgentHeaders.ClientCookie + "=";

    // A year: the key identifies nobody, it only keeps a browser on one track through a rollout.
    private const string Suffix = "; max-age=31536000; path=/; samesite=lax; httponly";

    public string CreateSetCookie(Track track, int weight, bool matchTrack)
    {
        Span<byte> raw = stackalloc byte[KeyBytes];
        Span<byte> key = stackalloc byte[KeyChars];
        var needsMatch = matchTrack && weight is > Weights.Min and < Weights.Max;
        for (var attempt = 0; ; attempt++)
        {
            random.NextBytes(raw);
            Base64Url.EncodeToUtf8(raw, key);
            if (!needsMatch || attempt >= MaxAttempts
                || ClientBuckets.IsCanary(ClientBuckets.BucketOfUtf8(key), weight) == (track == Track.Canary))
            {
                break;
            }
        }

        // The key stays on the stack until it is written into the one string this method allocates.
        ReadOnlySpan<byte> issued = key;
        return string.Create(Prefix.Length + KeyChars + Suffix.Length, issued, static (span, k) =>
        {
            Prefix.AsSpan().CopyTo(span);
            for (var i = 0; i < k.Length; i++)
            {
                span[Prefix.Length + i] = (char)k[i];
            }

            Suffix.AsSpan().CopyTo(span[(Prefix.Length + KeyChars)..]);
        });
    }
}
