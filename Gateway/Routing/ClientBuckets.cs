using System.Buffers;
using System.IO.Hashing;
using System.Text;
using AgentAspire.Contracts;

namespace Gateway.Routing;

/// <summary>
/// Maps a client key to one of 10,000 buckets. The canary owns the buckets below its weight, so raising the weight
/// only moves clients from stable to canary and lowering it only moves them back: a client never flaps.
/// </summary>
/// <remarks>
/// The hash is XxHash3 (seed 0) over the key's UTF-8 bytes: stable across processes, replicas and restarts, unlike
/// <see cref="string.GetHashCode()"/>, so every gateway replica puts a client in the same bucket.
/// </remarks>
public static class ClientBuckets
{
    public const int Count = Weights.Max;

    private const int StackLimit = 256;

    public static int BucketOf(ReadOnlySpan<char> key)
    {
        var maxBytes = Encoding.UTF8.GetMaxByteCount(key.Length);
        byte[]? rented = null;
        var buffer = maxBytes <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            var length = Encoding.UTF8.GetBytes(key, buffer);
            return BucketOfUtf8(buffer[..length]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    public static int BucketOfUtf8(ReadOnlySpan<byte> key) => (int)(XxHash3.HashToUInt64(key) % Count);

    public static bool IsCanary(int bucket, int weight) => bucket < weight;
}
