using System.Net;
using System.Text;
using System.Text.Json;
using RolloutApi.Tests.Infrastructure;

namespace RolloutApi.Tests.Apis;

/// <summary>
/// A request the API cannot read is answered with a problem that says what and where, never with the name of a CLR type
/// the API binds to (the framework's and the serializer's own messages name them, e.g. "RolloutApi.Apis.CreateRevisionRequest").
/// </summary>
public sealed class MalformedRequestTests : IDisposable
{
    private const string Revisions = $"/api/agents/{RolloutApiFactory.Agent}/revisions";
    private const string Rollouts = $"/api/agents/{RolloutApiFactory.Agent}/rollouts";
    private const string Weight = $"/api/agents/{RolloutApiFactory.Agent}/weight";
    private readonly RolloutApiFactory _factory = new();
    private readonly HttpClient _operator;

    public MalformedRequestTests() => _operator = _factory.Operator();

    public void Dispose()
    {
        _operator.Dispose();
        _factory.Dispose();
    }

    public static TheoryData<string, string, string, string> Bodies => new()
    {
        // endpoint, body, expected title, expected JSON path (or "" when the problem names none)
        { Revisions, "[]", "Malformed JSON", "$" },
        { Revisions, "\"2.0.0\"", "Malformed JSON", "$" },
        { Revisions, """{"version": 2}""", "Malformed JSON", "$.version" },
        { Revisions, """{"version": "2.0.0", "unknown": true}""", "Malformed JSON", "$.unknown" },
        { Revisions, "{\"version\": ", "Malformed JSON", "$.version" },
        { Revisions, "", "Missing body", "" },
        { Rollouts, """{"revision": "two"}""", "Malformed JSON", "$.revision" },
        { Rollouts, """{"revision": 2, "steps": [{"setWeight": "all"}]}""", "Malformed JSON", "$.steps[0].setWeight" },
        { Weight, """{"weight": 1.5}""", "Malformed JSON", "$.weight" },
        { Weight, "{}", "Malformed JSON", "$" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task A_malformed_body_is_a_400_problem_that_names_the_place_and_no_clr_type(string path, string body, string title, string jsonPath)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(path == Weight ? HttpMethod.Put : HttpMethod.Post, path) { Content = content };

        using var response = await _operator.SendAsync(request).WaitAsync(Deadline.Request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal(title, problem.RootElement.GetProperty("title").GetString());
        if (jsonPath.Length > 0)
        {
            Assert.Equal(jsonPath, problem.RootElement.GetProperty("path").GetString());
        }

        AssertNoTypeNames(text);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_a_413_problem()
    {
        var large = $$"""{"version": "2.0.0", "reason": "{{new string('r', (int)Extensions.Extensions.MaxRequestBodyBytes)}}"}""";
        using var content = new StringContent(large, Encoding.UTF8, "application/json");

        using var response = await _operator.PostAsync(Revisions, content).WaitAsync(Deadline.Request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal($"The body must be at most {Extensions.Extensions.MaxRequestBodyBytes} bytes.", problem.RootElement.GetProperty("detail").GetString());
        AssertNoTypeNames(text);
    }

    [Fact]
    public async Task A_malformed_if_match_is_a_400_problem_before_anything_changes()
    {
        using var content = new StringContent("""{"version": "2.0.0"}""", Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, Revisions) { Content = content };
        request.Headers.TryAddWithoutValidation("If-Match", "not-an-etag");

        using var response = await _operator.SendAsync(request).WaitAsync(Deadline.Request);
        using var list = await _operator.GetAsync(Revisions).WaitAsync(Deadline.Request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Invalid If-Match", problem.RootElement.GetProperty("title").GetString());
        Assert.Equal("\"1\"", list.Headers.ETag?.Tag);
    }

    /// <summary>No namespace-qualified name, and no simple name of a type the API declares (request bodies, services…).</summary>
    private static void AssertNoTypeNames(string text)
    {
        Assert.DoesNotContain("RolloutApi.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", text, StringComparison.Ordinal);
        var declared = typeof(Extensions.Extensions).Assembly.GetTypes()
            .Where(type => type.IsPublic && type.Name.Length > 8 && !type.Name.Contains('`'))
            .Select(type => type.Name);
        foreach (var name in declared)
        {
            Assert.DoesNotContain(name, text, StringComparison.Ordinal);
        }
    }
}
