using AgentAspire.Contracts;

namespace Gateway.Stats;

/// <summary>
/// Fixed latency buckets for the per-window histogram: fine below 10 ms where a proxy lives, coarse above.
/// Percentiles interpolate inside a bucket, so their error is bounded by the bucket's width.
/// </summary>
public static class LatencyBuckets
{
    /// <summary>Upper bounds in milliseconds; one more bucket holds everything slower.</summary>
    public static readonly double[] UpperBoundsMs =
    [
        0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 12.5, 15, 20, 25, 30, 40, 50, 60, 80,
        100, 125, 150, 200, 250, 300, 400, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 10_000, 30_000, 60_000,
    ];

    public static int Count => UpperBoundsMs.Length + 1;

    /// <summary>The bounds in <see cref="TimeProvider"/> timestamp units, so recording compares integers.</summary>
    public static long[] UpperBoundsInTimestamps(long timestampFrequency)
    {
        var bounds = new long[UpperBoundsMs.Length];
        for (var i = 0; i < bounds.Length; i++)
        {
            bounds[i] = (long)Math.Ceiling(UpperBoundsMs[i] * timestampFrequency / 1000.0);
        }

        return bounds;
    }

    public static int IndexOf(long elapsed, long[] upperBounds)
    {
        // Binary search for the first bound >= elapsed; the last index is the overflow bucket.
        int lo = 0, hi = upperBounds.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (upperBounds[mid] < elapsed)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>The <paramref name="quantile"/> (0..1) of a histogram over these buckets in milliseconds (to the microsecond); null when it is empty.</summary>
    public static double? Percentile(ReadOnlySpan<long> counts, double quantile) =>
        LatencyHistogram.Percentile(counts, UpperBoundsMs, quantile) is { } value ? Math.Round(value, 3) : null;
}
