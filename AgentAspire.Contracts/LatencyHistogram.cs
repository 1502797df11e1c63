namespace AgentAspire.Contracts;

/// <summary>
/// Arithmetic on a fixed-bucket histogram (counts per bucket, upper bounds; one more count than bounds for everything
/// slower). Written once: the gateway summarises its window with it and RolloutApi judges merged replicas with it.
/// </summary>
public static class LatencyHistogram
{
    /// <summary>The sum of the counts.</summary>
    public static long Total(ReadOnlySpan<long> counts)
    {
        long total = 0;
        foreach (var c in counts)
        {
            total += c;
        }

        return total;
    }

    /// <summary>
    /// The <paramref name="quantile"/> (0..1), interpolated linearly inside its bucket (so its error is bounded by the
    /// bucket's width), in the bounds' unit; the last bound when it falls in the open last bucket; null when empty.
    /// </summary>
    public static double? Percentile(ReadOnlySpan<long> counts, IReadOnlyList<double> upperBounds, double quantile)
    {
        ArgumentNullException.ThrowIfNull(upperBounds);
        var total = Total(counts);
        if (total == 0)
        {
            return null;
        }

        var rank = quantile * total;
        long cumulative = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            if (counts[i] == 0)
            {
                continue;
            }

            if (cumulative + counts[i] >= rank)
            {
                var lower = i == 0 ? 0 : upperBounds[i - 1];
                var upper = i < upperBounds.Count ? upperBounds[i] : lower;
                return lower + ((upper - lower) * Math.Clamp((rank - cumulative) / counts[i], 0, 1));
            }

            cumulative += counts[i];
        }

        return upperBounds[^1];
    }
}
