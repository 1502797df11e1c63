using System.Collections.Frozen;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace AgentWorker.Processing;

/// <summary>The local work every item gets: counts, a content hash and, for enriched output, keywords.</summary>
public static partial class TextAnalyzer
{
    public const int DefaultKeywordCount = 5;

    private const int MinKeywordLength = 3;

    private static readonly FrozenSet<string> StopWords = new[]
    {
        "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can",
        "could", "did", "do", "does", "for", "from", "had", "has", "have", "he", "her", "his", "how", "if", "in", "into",
        "is", "it", "its", "just", "more", "most", "not", "of", "on", "or", "our", "she", "so", "some", "than", "that",
        "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "too", "very", "was", "we",
        "were", "what", "when", "where", "which", "while", "who", "will", "with", "would", "you", "your",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Analyses normalised text; <paramref name="keywordCount"/> of zero leaves keywords out.</summary>
    public static TextAnalysis Analyze(string text, int keywordCount = 0)
    {
        ArgumentNullException.ThrowIfNull(text);
        var words = Word().Matches(text);
        var sentences = SentenceEnd().Split(text).Count(sentence => Word().IsMatch(sentence));
        var hash = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        return new TextAnalysis(
            words.Count,
            sentences,
            new StringInfo(text).LengthInTextElements,
            hash,
            keywordCount > 0 ? Keywords(words, keywordCount) : null);
    }

    // Most frequent words that carry meaning; ties break alphabetically so the result is deterministic.
    private static string[] Keywords(MatchCollection words, int count) =>
        words.Select(match => match.Value.ToLowerInvariant())
            .Where(word => word.Length >= MinKeywordLength && !StopWords.Contains(word) && !word.All(char.IsAsciiDigit))
            .CountBy(word => word, StringComparer.Ordinal)
            .OrderByDescending(pair => pair.Value)
            .ThenBy(pair => pair.Key, StringComparer.Ordinal)
            .Take(count)
            .Select(pair => pair.Key)
            .ToArray();

    [GeneratedRegex(@"[\p{L}\p{N}]+(?:['’\-][\p{L}\p{N}]+)*", RegexOptions.CultureInvariant)]
    private static partial Regex Word();

    [GeneratedRegex(@"[.!?]+", RegexOptions.CultureInvariant)]
    private static partial Regex SentenceEnd();
}
