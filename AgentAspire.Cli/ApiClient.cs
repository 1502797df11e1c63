using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using AgentAspire.Contracts;

namespace AgentAspire.Cli;

/// <summary>RolloutApi refused a call: the RFC 7807 problem document it answered with.</summary>
internal sealed class ApiProblemException(HttpStatusCode status, string title, string? detail, JsonElement? errors)
    : Exception($"{title} (HTTP {(int)status})")
{
    public HttpStatusCode Status { get; } = status;
    public string Title { get; } = title;
    public string? Detail { get; } = detail;
    public JsonElement? Errors { get; } = errors;
}

/// <summary>RolloutApi over HTTP, with the key in a header (never in a URL), problem details turned into exceptions.</summary>
internal sealed class ApiClient(HttpClient http) : IDisposable
{
    public static ApiClient Create(Uri server, string? key, TimeSpan? timeout = null)
    {
        #pragma warning disable CA2000 // the returned ApiClient owns the HttpClient (and its handler) and disposes it
        var http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = server, Timeout = timeout ?? Timeout.InfiniteTimeSpan };
        #pragma warning restore CA2000
        if (!string.IsNullOrEmpty(key))
        {
            http.DefaultRequestHeaders.Add(AgentHeaders.ApiKey, key);
        }

        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("agentaspire", typeof(ApiClient).Assembly.GetName().Version?.ToString() ?? "0"));
        return new ApiClient(http);
    }

    public Uri Server => http.BaseAddress!;

    public async Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return await SendAsync(request, cancellationToken);
    }

    /// <summary>Like <see cref="GetAsync"/>, but null for a 404.</summary>
    public async Task<JsonElement?> FindAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await GetAsync(path, cancellationToken);
        }
        catch (ApiProblemException problem) when (problem.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Json.Web);
        }

        return await SendAsync(request, cancellationToken);
    }

    /// <summary>The server-sent events named <paramref name="eventName"/> on <paramref name="path"/>, as JSON, until the stream ends.</summary>
    public async IAsyncEnumerable<JsonElement> StreamAsync(string path, string eventName, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await ThrowIfProblemAsync(response, cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var name = "message";
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0 && name == eventName)
                {
                    yield return JsonDocument.Parse(data.ToString()).RootElement.Clone();
                }

                name = "message";
                data.Clear();
                continue;
            }

            if (line.StartsWith(':'))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            if (field == "event")
            {
                name = value;
            }
            else if (field == "data")
            {
                data.Append(data.Length > 0 ? "\n" : "").Append(value);
            }
        }
    }

    public void Dispose() => http.Dispose();

    private async Task<JsonElement> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await http.SendAsync(request, cancellationToken);
        await ThrowIfProblemAsync(response, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task ThrowIfProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        string title = response.ReasonPhrase ?? "Request failed";
        string? detail = null;
        JsonElement? errors = null;
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                title = root.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : title;
                detail = root.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                errors = root.TryGetProperty("errors", out var e) ? e.Clone() : null;
            }
        }
        catch (JsonException)
        {
            detail = text.Length > 0 ? text : null;
        }

        throw new ApiProblemException(response.StatusCode, title, detail, errors);
    }
}
