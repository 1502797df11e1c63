using System.Globalization;
using System.Text.RegularExpressions;

namespace AgentWorker.Tests.Support;

/// <summary>Just enough of the Prometheus text format to find a series by name and labels.</summary>
internal static partial class PrometheusText
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

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?<labels>[^}]*)\} (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex Series();

    [GeneratedRegex(@"(?<key>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
