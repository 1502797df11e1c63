using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace RolloutApi.Rollouts.Analysis.Sources;

/// <summary>Where Prometheus is (section <c>Analysis:Prometheus</c>): a URL on Kubernetes; the AppHost's resource locally.</summary>
public sealed class PrometheusSourceOptions
{
    public const string SectionName = "Analysis:Prometheus";

    /// <summary>Prometheus' base URL; <c>http://prometheus</c> resolves through service discovery (AppHost's opt-in resource).</summary>
    public Uri Url { get; set; } = new("http://prometheus");
}

/// <summary>
/// PromQL against a real Prometheus, templated with <c>{{agent}}</c>, <c>{{track}}</c>, <c>{{version}}</c> and
/// <c>{{window}}</c> (e.g. <c>45s</c>: since the weight took effect, or <see cref="MetricSpec.WindowSeconds"/>). An instant
/// query (<c>/api/v1/query</c> at the measurement's time) by default; with <see cref="MetricSpec.Range"/> a range query
/// (<c>/api/v1/query_range</c> over the window, every step) whose steps are reduced to one value (last, avg, max, min). A
/// query with <c>{{track}}</c> runs once per track (canary vs stable); one without runs once as the whole agent's value
/// (<c>scope: agent</c>). A scalar result is the value; a vector's samples are summed (write <c>sum(...)</c> to be
/// explicit); an empty result is "no data". Anything Prometheus refuses (bad PromQL) or cannot answer throws, which the
/// runner records as Inconclusive with Prometheus' own message: an unreachable Prometheus never fails a canary.
/// </summary>
public sealed class PrometheusMetricSource(IHttpClientFactory httpClientFactory, IOptions<PrometheusSourceOptions> options) : IMetricSource
{
    public const string SourceName = "prometheus";
    public const string HttpClientName = "prometheus";
    public const string AgentPlaceholder = "{{agent}}";
    public const string TrackPlaceholder = "{{track}}";
    public const string VersionPlaceholder = "{{version}}";
    public const string WindowPlaceholder = "{{window}}";

    /// <summary>Prometheus refuses more than 11,000 points per series; stay well below.</summary>
    public const int MaxRangePoints = 10_000;

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
            var agentValue = await EvaluateAsync(metric, Render(metric.Query, context, null, null, windowSeconds), from, context.Now, cancellationToken);
            return new MetricSample(from, context.Now, TrackSample.ValueOnly(null), TrackSample.ValueOnly(null), TrackSample.ValueOnly(agentValue));
        }

        var stable = await EvaluateAsync(metric, Render(metric.Query, context, "stable", context.Stable.Version, windowSeconds), from, context.Now, cancellationToken);
        var canary = await EvaluateAsync(metric, Render(metric.Query, context, "canary", context.Canary.Version, windowSeconds), from, context.Now, cancellationToken);
        return new MetricSample(from, context.Now,
            TrackSample.ValueOnly(stable, context.Stable.Version), TrackSample.ValueOnly(canary, context.Canary.Version), TrackSample.ValueOnly(null));
    }

    private Task<double?> EvaluateAsync(MetricSpec metric, string promql, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        metric.Range is { } range
            ? QueryRangeAsync(promql, from, to, TimeSpan.FromSeconds(range.StepSeconds), range.Reduce, cancellationToken)
            : QueryAsync(promql, to, cancellationToken);

    public static string Render(string query, MeasurementContext context, string? track, string? version, int windowSeconds) => query
        .Replace(AgentPlaceholder, context.Agent, StringComparison.Ordinal)
        .Replace(TrackPlaceholder, track ?? string.Empty, StringComparison.Ordinal)
        .Replace(VersionPlaceholder, version ?? string.Empty, StringComparison.Ordinal)
        .Replace(WindowPlaceholder, string.Create(CultureInfo.InvariantCulture, $"{windowSeconds}s"), StringComparison.Ordinal);

    /// <summary>An instant query at <paramref name="at"/>: the scalar, or the vector's sum; null for an empty vector or NaN.</summary>
    public async Task<double?> QueryAsync(string promql, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var data = await GetAsync(promql, string.Create(CultureInfo.InvariantCulture,
            $"api/v1/query?query={Uri.EscapeDataString(promql)}&time={Seconds(at)}"), cancellationToken);
        var result = data.GetProperty("result");
        return data.GetProperty("resultType").GetString() switch
        {
            "scalar" => Number(result[1]),
            "vector" when result.GetArrayLength() == 0 => null,
            "vector" => result.EnumerateArray().Select(s => Number(s.GetProperty("value")[1])).Sum(),
            var other => throw new InvalidOperationException($"The query '{promql}' returned a {other}; analysis needs a scalar or an instant vector."),
        };
    }

    /// <summary>
    /// A range query from <paramref name="from"/> to <paramref name="to"/> every <paramref name="step"/>: at each step the
    /// series' values are summed (NaN skipped), then the steps are reduced; null when no step has a value.
    /// </summary>
    public async Task<double?> QueryRangeAsync(string promql, DateTimeOffset from, DateTimeOffset to, TimeSpan step, RangeReduce reduce, CancellationToken cancellationToken)
    {
        if ((to - from) / step > MaxRangePoints)
        {
            step = (to - from) / MaxRangePoints;
        }

        var data = await GetAsync(promql, string.Create(CultureInfo.InvariantCulture,
            $"api/v1/query_range?query={Uri.EscapeDataString(promql)}&start={Seconds(from)}&end={Seconds(to)}&step={step.TotalSeconds:0.###}"), cancellationToken);
        if (data.GetProperty("resultType").GetString() is not "matrix")
        {
            throw new InvalidOperationException($"The range query '{promql}' returned a {data.GetProperty("resultType").GetString()}, not a matrix.");
        }

        var steps = new SortedDictionary<double, double>();
        foreach (var series in data.GetProperty("result").EnumerateArray())
        {
            foreach (var point in series.GetProperty("values").EnumerateArray())
            {
                if (Number(point[1]) is { } value)
                {
                    var at = point[0].GetDouble();
                    steps[at] = steps.GetValueOrDefault(at) + value;
                }
            }
        }

        if (steps.Count == 0)
        {
            return null;
        }

        return reduce switch
        {
            RangeReduce.Avg => steps.Values.Average(),
            RangeReduce.Max => steps.Values.Max(),
            RangeReduce.Min => steps.Values.Min(),
            _ => steps.Values.Last(),
        };
    }

    /// <summary>GETs a query path; the response's <c>data</c>, or an exception carrying Prometheus' own error text.</summary>
    private async Task<JsonElement> GetAsync(string promql, string pathAndQuery, CancellationToken cancellationToken)
    {
        var client = httpClientFactory.CreateClient(HttpClientName);
        using var response = await client.GetAsync(new Uri(options.Value.Url, pathAndQuery), cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(body).RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new InvalidOperationException(
                $"Prometheus at {options.Value.Url} answered {(int)response.StatusCode} {response.ReasonPhrase} without a Prometheus API body; is the URL right?");
        }

        if (!response.IsSuccessStatusCode || root.GetProperty("status").GetString() != "success")
        {
            var error = root.TryGetProperty("error", out var e) ? e.GetString() : response.ReasonPhrase;
            throw new InvalidOperationException($"Prometheus refused the query '{promql}': {error}");
        }

        return root.GetProperty("data");
    }

    private static string Seconds(DateTimeOffset at) => (at.ToUnixTimeMilliseconds() / 1000.0).ToString("0.###", CultureInfo.InvariantCulture);

    private static double? Number(JsonElement value)
    {
        var number = double.Parse(value.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture);
        return double.IsNaN(number) ? null : number;
    }
}
