using AgentWorker.Processing;

namespace AgentWorker.Tests.Processing;

public sealed class TextAnalyzerTests
{
    [Fact]
    public void Analyze_CountsWordsSentencesAndCharacters()
    {
        var analysis = TextAnalyzer.Analyze("Rollouts move traffic. Canaries don't lie! Do they?");

        Assert.Equal(8, analysis.WordCount);
        Assert.Equal(3, analysis.SentenceCount);
        Assert.Equal(51, analysis.CharacterCount);
        Assert.Null(analysis.Keywords);
    }

    [Fact]
    public void Analyze_HashesTheText_Deterministically()
    {
        var first = TextAnalyzer.Analyze("abc");
        var again = TextAnalyzer.Analyze("abc");
        var other = TextAnalyzer.Analyze("abd");

        // SHA-256 of "abc", as published in FIPS 180-2.
        Assert.Equal("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", first.ContentHash);
        Assert.Equal(first.ContentHash, again.ContentHash);
        Assert.NotEqual(first.ContentHash, other.ContentHash);
    }

    [Fact]
    public void Analyze_ListsMostFrequentKeywords_WithoutStopWords_TiesAlphabetical()
    {
        var analysis = TextAnalyzer.Analyze(
            "The canary and the canary: latency, errors, latency. The errors of 2026 are the errors.", keywordCount: 3);

        Assert.Equal(["errors", "canary", "latency"], analysis.Keywords);
    }
}
