using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace RolloutApi.Rollouts.Analysis;

/// <summary>Where Prometheus is (section <c>Analysis:Prometheus</c>): a URL on Kubernetes; the AppHost's resource locally.</summary>
public sealed class PrometheusSourceOptions
{
    public const string SectionName = "Analysis:Prometheus";

    /// <summary>Prometheus' base URL; <c>http://prometheus</c> resolves through service discovery (AppHost's opt-in resource).</summary>
    public Uri Url { get; set; } = new("http://prometheus");
}

/// <summary>
/// PromQL against a real Prometheus: an instant query (or, with <see cref="MetricSpec.WindowSeconds"/> and a query
/// containing <c>[{{window}}]</c>, the same over that window), templated with <c>{{agent}}</c>, <c>{{track}}</c>,
/// <c>{{version}}</c> and <c>{{window}}</c> (e.g. <c>45s</c>: since the weight took effect). A query with <c>{{track}}</c>
/// runs once per track (canary vs stable); one without runs once as the whole agent's value (<c>scope: agent</c>). A scalar
/// result is the value; a vector's samples are summed (write <c>sum(...)</c> to be explicit); an empty vector is "no data".
/// </summary>
public sealed class PrometheusMetricSource(IHttpClientFactory httpClientFactory, IOptions<PrometheusSourceOptions> options) : IMetricSource
{
    public const string SourceName = "prometheus";
    public const string HttpClientName = "prometheus";
    public const string AgentPlaceholder = "{{agent}}";
    public const string TrackPlaceholder = "{{track}}";
    public const string VersionPlaceholder = "{{version}}";
    public const string WindowPlaceholder = "{{window}}";

    public string Name => SourceName;

    public string? Check(MetricSpec metric) =>
        metric.Query.Contains(VersionPlaceholder, StringComparison.Ordinal) && !metric.Query.Contains(TrackPlaceholder, StringComparison.Ordinal)
            ? "{{version}} is per track: use it together with {{track}}."
            : null;

    public async Task<MetricSample> MeasureAsync(MetricSpec metric, MeasurementContext context, CancellationToken cancellationToken)
    {
        var windowSeconds = metric.WindowSeconds ?? (int)Math.Max(1, Math.Ceiling((context.Now - context.Since).TotalSeconds));
        var from = context.Now - TimeSpan.FromSeconds(windowSeconds);
        if (!metric.Query.Contains(TrackPlaceholder, StringComparison.Ordinal))
        {
            var agentValue = await QueryAsync(Render(metric.Query, context, null, null, windowSeconds), context.Now, cancellationToken);
            return new MetricSample(from, context.Now, TrackSample.ValueOnly(null), TrackSample.ValueOnly(null), TrackSample.ValueOnly(agentValue));
        }

        var stable = await QueryAsync(Render(metric.Query, context, "stable", context.Stable.Version, windowSeconds), context.Now, cancellationToken);
        var canary = await QueryAsync(Render(metric.Query, context, "canary", context.Canary.Version, windowSeconds), context.Now, cancellationToken);
        return new MetricSample(from, context.Now,
            TrackSample.ValueOnly(stable, context.Stable.Version), TrackSample.ValueOnly(canary, context.Canary.Version), TrackSample.ValueOnly(null));
    }

    public static string Render(string query, MeasurementContext context, string? track, string? version, int windowSeconds) => query
        .Replace(AgentPlaceholder, context.Agent, StringComparison.Ordinal)
        .Replace(TrackPlaceholder, track ?? string.Empty, StringComparison.Ordinal)
        .Replace(VersionPlaceholder, version ?? string.Empty, StringComparison.Ordinal)
        .Replace(WindowPlaceholder, string.Create(CultureInfo.InvariantCulture, $"{windowSeconds}s"), StringComparison.Ordinal);

    /// <summary>An instant query at <paramref name="at"/>: the scalar, or the vector's sum; null for an empty vector or NaN.</summary>
    public async Task<double?> QueryAsync(string promql, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var client = httpClientFactory.CreateClient(HttpClientName);
        var url = new Uri(options.Value.Url, string.Create(CultureInfo.InvariantCulture,
            $"api/v1/query?query={Uri.EscapeDataString(promql)}&time={at.ToUnixTimeMilliseconds() / 1000.0:0.###}"));
        using var response = await client.GetAsync(url, cancellationToken);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var document = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
        var root = document.RootElement;
        if (!response.IsSuccessStatusCode || root.GetProperty("status").GetString() != "success")
        {
            var error = root.TryGetProperty("error", out var e) ? e.GetString() : response.ReasonPhrase;
            throw new InvalidOperationException($"Prometheus refused the query '{promql}': {error}");
        }

        var data = root.GetProperty("data");
        var result = data.GetProperty("result");
        return data.GetProperty("resultType").GetString() switch
        {
            "scalar" => Number(result[1]),
            "vector" when result.GetArrayLength() == 0 => null,
            "vector" => result.EnumerateArray().Select(s => Number(s.GetProperty("value")[1])).Sum(),
            var other => throw new InvalidOperationException($"The query '{promql}' returned a {other}; analysis needs a scalar or an instant vector."),
        };
    }

    private static double? Number(JsonElement value)
    {
        var number = double.Parse(value.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture);
        return double.IsNaN(number) ? null : number;
    }
}
