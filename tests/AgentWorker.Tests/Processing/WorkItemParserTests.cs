using System.Text.Json;
using AgentWorker.Processing;
using Microsoft.Extensions.Time.Testing;
using ServiceDefaults.Http;

namespace AgentWorker.Tests.Processing;

public sealed class WorkItemParserTests
{
    private readonly WorkItemParser _parser = new(new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)));

    [Fact]
    public void Parse_NormalisesKindTextTagsAndMetadata()
    {
        var errors = new ValidationErrors();

        var item = _parser.Parse(
            Request("""
                {
                  "id": " order-42 ",
                  "kind": " Summarize ",
                  "payload": {
                    "text": "  Hello \t  wonderful\n\nworld.\u0007 ",
                    "tags": ["Machine Learning", "ai", "AI", " ai "],
                    "metadata": { "Source": "  crm  ", "a.key": "x" }
                  }
                }
                """),
            prefix: "",
            errors);

        Assert.True(errors.IsEmpty);
        Assert.NotNull(item);
        Assert.Equal("order-42", item.Id);
        Assert.Equal("summarize", item.Kind);
        Assert.Equal("Hello wonderful world.", item.Payload.Text);
        Assert.Equal(["ai", "machine-learning"], item.Payload.Tags);
        Assert.Equal(["a.key", "source"], item.Payload.Metadata.Keys);
        Assert.Equal("crm", item.Payload.Metadata["source"]);
    }

    [Theory]
    [InlineData("  a  b  ", "a b")]
    [InlineData("line\r\nbreak\ttab", "line break tab")]
    [InlineData("bell\u0007 removed", "bell removed")]
    [InlineData("caf\u00e9 \U0001F600", "caf\u00e9 \U0001F600")]
    public void NormalizeText_CollapsesWhitespace_DropsControls_KeepsOtherCharacters(string raw, string expected)
    {
        Assert.Equal(expected, WorkItemParser.NormalizeText(raw));
    }

    [Fact]
    public void Parse_GeneratesTimeOrderedId_WhenAbsent()
    {
        var errors = new ValidationErrors();

        var first = _parser.Parse(Request("""{ "kind": "text", "payload": { "text": "a" } }"""), "", errors);
        var second = _parser.Parse(Request("""{ "kind": "text", "payload": { "text": "b" } }"""), "", errors);

        Assert.True(errors.IsEmpty);
        Assert.Matches("^[0-9a-f]{32}$", first!.Id);
        Assert.Equal('7', first.Id[12]);
        Assert.NotEqual(first.Id, second!.Id);
    }

    [Fact]
    public void Parse_ReportsEveryInvalidField_UnderItsPath()
    {
        var errors = new ValidationErrors();

        var item = _parser.Parse(
            Request("""
                {
                  "id": "has spaces",
                  "kind": "9lives",
                  "payload": { "text": "   ", "tags": ["ok", "", null], "metadata": { "Key": "a", "key": "b", "bad key": "c" } }
                }
                """),
            prefix: "items[2]",
            errors);

        Assert.Null(item);
        var reported = errors.ToDictionary();
        Assert.Equal(
            [
                "items[2].id",
                "items[2].kind",
                "items[2].payload.metadata.bad key",
                "items[2].payload.metadata.key",
                "items[2].payload.tags[1]",
                "items[2].payload.tags[2]",
                "items[2].payload.text",
            ],
            reported.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("""{ "payload": { "text": "x" } }""", "kind")]
    [InlineData("""{ "kind": "text" }""", "payload")]
    [InlineData("""{ "kind": "text", "payload": {} }""", "payload.text")]
    [InlineData("""{ "kind": "text", "payload": { "text": "x", "tags": ["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17"] } }""", "payload.tags")]
    [InlineData("""{ "kind": "text", "payload": { "text": "x", "metadata": { "k": null } } }""", "payload.metadata.k")]
    [InlineData("""{ "id": "", "kind": "text", "payload": { "text": "x" } }""", "id")]
    public void Parse_RejectsMissingOrInvalidFields(string json, string expectedKey)
    {
        var errors = new ValidationErrors();

        var item = _parser.Parse(Request(json), "", errors);

        Assert.Null(item);
        Assert.Contains(expectedKey, errors.ToDictionary().Keys);
    }

    [Fact]
    public void Parse_RejectsTextOverTheLimit_AndAcceptsTextAtIt()
    {
        var errors = new ValidationErrors();
        var atLimit = new string('a', WorkItemLimits.MaxTextLength);

        var accepted = _parser.Parse(new WorkItemRequest { Kind = "text", Payload = new PayloadRequest { Text = atLimit } }, "", errors);
        var refused = _parser.Parse(new WorkItemRequest { Kind = "text", Payload = new PayloadRequest { Text = atLimit + "a" } }, "", errors);

        Assert.NotNull(accepted);
        Assert.Null(refused);
        Assert.Equal(["payload.text"], errors.ToDictionary().Keys);
    }

    [Fact]
    public void Parse_NullItem_IsReportedAtItsPath()
    {
        var errors = new ValidationErrors();

        Assert.Null(_parser.Parse(null, "items[0]", errors));
        Assert.Equal(["items[0]"], errors.ToDictionary().Keys);
    }

    private static WorkItemRequest Request(string json) =>
        JsonSerializer.Deserialize(json, WorkItemJsonContext.Default.WorkItemRequest)!;
}
