using System.Globalization;
using System.Text.RegularExpressions;

namespace AgentAspire.TestSupport;

/// <summary>Just enough of the Prometheus text format to find a series by name and labels.</summary>
public static partial class PrometheusText
{
    /// <summary>The value of the series <paramref name="name"/> whose labels include all of <paramref name="labels"/>, or null.</summary>
    public static double? Find(string text, string name, IReadOnlyDictionary<string, string> labels)
    {
        foreach (Match line in Series().Matches(text))
        {
            if (line.Groups["name"].Value != name)
            {
                continue;
            }

            var present = Label().Matches(line.Groups["labels"].Value)
                .ToDictionary(label => label.Groups["key"].Value, label => label.Groups["value"].Value, StringComparer.Ordinal);
            if (labels.All(label => present.TryGetValue(label.Key, out var value) && value == label.Value))
            {
                return line.Groups["value"].Value == "+Inf"
                    ? double.PositiveInfinity
                    : double.Parse(line.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    /// <summary>
    /// The sum of every series named <paramref name="name"/>, whatever its labels (0 when there is none): a counter whose
    /// labels changed while the process ran (an agent's version label after a promotion) is split over several series.
    /// </summary>
    public static double Sum(string text, string name)
    {
        var sum = 0.0;
        foreach (Match line in Series().Matches(text))
        {
            if (line.Groups["name"].Value == name)
            {
                sum += double.Parse(line.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?<labels>[^}]*)\} (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex Series();

    [GeneratedRegex(@"(?<key>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
