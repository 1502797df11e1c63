using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace RolloutApi.Auth;

/// <summary>A credential that matched a configured key.</summary>
public sealed record ApiKeyIdentity(string Name, string Role);

/// <summary>Checks a presented secret against the configured keys in time independent of where (or whether) it matches.</summary>
/// <remarks>
/// Both sides are hashed first so that the comparison is over equal-length digests: <see cref="CryptographicOperations.FixedTimeEquals"/>
/// on raw keys would return early on a length mismatch and leak each key's length. Every key is compared, match or not.
/// </remarks>
public sealed class ApiKeyValidator
{
    private readonly (byte[] Digest, ApiKeyIdentity Identity)[] _keys;

    public ApiKeyValidator(IOptions<AuthOptions> options)
    {
        _keys = [.. options.Value.ApiKeys.Select(pair =>
            (SHA256.HashData(Encoding.UTF8.GetBytes(pair.Value.Key)), new ApiKeyIdentity(pair.Key, pair.Value.Role)))];
    }

    public int Count => _keys.Length;

    public ApiKeyIdentity? Validate(string presented)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), digest);
        ApiKeyIdentity? match = null;
        foreach (var (keyDigest, identity) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, keyDigest))
            {
                match = identity;
            }
        }

        return match;
    }
}
