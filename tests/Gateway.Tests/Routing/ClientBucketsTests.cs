using System.Text;
using AgentAspire.Contracts;
using Gateway.Routing;

namespace Gateway.Tests.Routing;

public sealed class ClientBucketsTests
{
    [Fact]
    public void A_key_hashes_to_the_same_bucket_in_every_process()
    {
        // Pinned values: a change of hash would reshuffle every client's track in the middle of a rollout.
        Assert.Equal(ClientBuckets.BucketOfUtf8("alice"u8), ClientBuckets.BucketOf("alice"));
        Assert.Equal(PinnedAlice, ClientBuckets.BucketOf("alice"));
        Assert.Equal(PinnedBob, ClientBuckets.BucketOf("bob"));
    }

    [Theory]
    [InlineData("zoë-ünïcødé-клиент")]
    [InlineData(null)]
    public void Non_ascii_and_long_keys_hash_their_utf8_bytes(string? key)
    {
        key ??= new string('k', 1_000); // past the stack buffer: the pooled path must agree

        Assert.Equal(ClientBuckets.BucketOfUtf8(Encoding.UTF8.GetBytes(key)), ClientBuckets.BucketOf(key));
        Assert.InRange(ClientBuckets.BucketOf(key), 0, ClientBuckets.Count - 1);
    }

    [Fact]
    public void Issued_cookies_carry_a_key_whose_bucket_matches_the_track_served()
    {
        var issuer = new ClientKeyIssuer(new Random(42));
        const int weight = 1_000;

        foreach (var track in new[] { Track.Canary, Track.Stable })
        {
            for (var i = 0; i < 200; i++)
            {
                var cookie = issuer.CreateSetCookie(track, weight, matchTrack: true);
                var key = KeyOf(cookie);
                Assert.Equal(16, key.Length);
                Assert.Equal(track == Track.Canary, ClientBuckets.IsCanary(ClientBuckets.BucketOf(key), weight));
            }
        }
    }

    [Fact]
    public void An_issued_cookie_is_long_lived_http_only_and_scoped_to_the_site()
    {
        var cookie = new ClientKeyIssuer(new Random(1)).CreateSetCookie(Track.Stable, 0, matchTrack: false);

        Assert.StartsWith(AgentHeaders.ClientCookie + "=", cookie, StringComparison.Ordinal);
        Assert.Contains("path=/", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.Ordinal);
        Assert.Contains("max-age=31536000", cookie, StringComparison.Ordinal);
        Assert.NotEqual(KeyOf(cookie), KeyOf(new ClientKeyIssuer(new Random(2)).CreateSetCookie(Track.Stable, 0, false)));
    }

    internal static string KeyOf(string setCookie)
    {
        var start = AgentHeaders.ClientCookie.Length + 1;
        return setCookie[start..setCookie.IndexOf(';', StringComparison.Ordinal)];
    }

    private const int PinnedAlice = 8080;
    private const int PinnedBob = 3397;
}
