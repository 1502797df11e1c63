using AgentAspire.Contracts;

namespace RolloutApi.Rollouts.Analysis.Judges;

/// <summary>
/// What the judges need on top of <see cref="LatencyHistogram"/> (totals and percentiles, shared with the gateway): the counts
/// a judge compares (a latency histogram, or [successes, errors] for a count metric), bucket values, the mean and the AUC.
/// </summary>
public static class Histograms
{
    /// <summary>The counts a judge compares: the latency buckets when the sample has them, else [successes, errors].</summary>
    public static long[]? CountsOf(TrackSample track, bool latency)
    {
        if (latency)
        {
            return track.Buckets is { Count: > 0 } buckets ? [.. buckets] : null;
        }

        return track.Requests < 0 || track.Errors < 0 ? null : [Math.Max(0, track.Requests - track.Errors), track.Errors];
    }

    /// <summary>A representative value per bucket: the midpoint, the lower bound for the open last bucket; 0/1 for [ok, errors].</summary>
    public static double[] Midpoints(IReadOnlyList<double>? boundsMs, int count)
    {
        var values = new double[count];
        if (boundsMs is null || boundsMs.Count + 1 != count)
        {
            for (var i = 0; i < count; i++)
            {
                values[i] = i;
            }

            return values;
        }

        for (var i = 0; i < count; i++)
        {
            var lower = i == 0 ? 0 : boundsMs[i - 1];
            values[i] = i < boundsMs.Count ? (lower + boundsMs[i]) / 2 : lower;
        }

        return values;
    }

    public static double Mean(ReadOnlySpan<long> counts, ReadOnlySpan<double> values)
    {
        double sum = 0;
        long n = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            sum += counts[i] * values[i];
            n += counts[i];
        }

        return n == 0 ? double.NaN : sum / n;
    }

    /// <summary>P(canary &gt; stable) + ½ P(tie) over bucket values: the Mann-Whitney AUC (0.5 = no difference).</summary>
    public static double Auc(ReadOnlySpan<long> canary, ReadOnlySpan<long> stable)
    {
        double nc = LatencyHistogram.Total(canary), ns = LatencyHistogram.Total(stable);
        if (nc == 0 || ns == 0)
        {
            return 0.5;
        }

        double below = 0, wins = 0;
        for (var i = 0; i < canary.Length; i++)
        {
            wins += canary[i] * (below + (stable[i] / 2.0));
            below += stable[i];
        }

        return wins / (nc * ns);
    }
}
