using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;

namespace Gateway.Stats;

/// <summary>
/// The gateway's server spans, started only for the requests that will be recorded. ASP.NET Core's own server activity
/// exists for every request as soon as anything listens to it (OpenTelemetry must, to propagate an unsampled
/// context), and costs an activity, its ids and two execution-context changes per request (bench/README.md). So the
/// gateway decides first: a caller's sampled flag is followed (parent-based), a root request is kept at
/// <see cref="TelemetryOptions.TraceSampleRatio"/>, and only then is a span started. An unsampled request has no
/// activity at all; <see cref="TraceContextTransform"/> still sends the agent a <c>traceparent</c> marked not sampled.
/// </summary>
internal sealed class ServerSpans : IDisposable
{
    /// <summary>The activity source, added to OpenTelemetry's tracing by <see cref="GatewayTelemetry"/>.</summary>
    public const string SourceName = GatewayMetrics.MeterName;

    /// <summary>The server span's operation name (its display name is <c>{method} {route}</c>, as ASP.NET Core's).</summary>
    public const string ActivityName = "AgentAspire.Gateway.HttpRequestIn";

    private readonly ActivitySource _source = new(SourceName);
    private readonly double _ratio;
    private readonly Random _random;

    public ServerSpans(IOptions<GatewayOptions> options, Random random)
    {
        _ratio = options.Value.Telemetry.TraceSampleRatio;
        _random = random;
    }

    /// <summary>A started server span for a request that is sampled; null for one that is not (or a probe or scrape).</summary>
    public Activity? Start(HttpContext context)
    {
        var request = context.Request;
        if (Microsoft.Extensions.Hosting.Extensions.IsInfrastructurePath(request.Path))
        {
            return null;
        }

        var sampled = TryGetRemoteParent(request, out var parent)
            ? (parent.TraceFlags & ActivityTraceFlags.Recorded) != 0
            : _ratio >= 1 || (_ratio > 0 && _random.NextDouble() < _ratio);
        if (!sampled)
        {
            return null;
        }

        var activity = _source.StartActivity(ActivityName, ActivityKind.Server, parent);
        if (activity is { IsAllDataRequested: true })
        {
            // OpenTelemetry's HTTP server semantic conventions, as ASP.NET Core's instrumentation writes them.
            activity.DisplayName = request.Method;
            activity.SetTag("http.request.method", request.Method);
            activity.SetTag("url.scheme", request.Scheme);
            activity.SetTag("url.path", request.Path.Value);
            activity.SetTag("server.address", request.Host.Host);
            if (request.Host.Port is { } port)
            {
                activity.SetTag("server.port", port);
            }

            activity.SetTag("network.protocol.version", ProtocolVersion(request.Protocol));
            if (request.Headers.UserAgent is { Count: > 0 } userAgent)
            {
                activity.SetTag("user_agent.original", userAgent.ToString());
            }
        }

        return activity;
    }

    /// <summary>Ends a span from <see cref="Start"/> with the response's status, the route and the exception, if any.</summary>
    public static void Stop(Activity activity, HttpContext context, Exception? exception)
    {
        if (activity.IsAllDataRequested)
        {
            var status = context.Response.StatusCode;
            activity.SetTag("http.response.status_code", status);
            if (context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } route })
            {
                activity.SetTag("http.route", route);
                activity.DisplayName = $"{context.Request.Method} {route}";
            }

            if (exception is not null)
            {
                activity.SetTag("error.type", exception.GetType().FullName);
                activity.SetStatus(ActivityStatusCode.Error);
            }
            else if (status >= StatusCodes.Status500InternalServerError)
            {
                activity.SetTag("error.type", status.ToString(System.Globalization.CultureInfo.InvariantCulture));
                activity.SetStatus(ActivityStatusCode.Error);
            }
        }

        activity.Stop();
    }

    /// <summary>The caller's W3C trace context, when it sent a valid one.</summary>
    public static bool TryGetRemoteParent(HttpRequest request, out ActivityContext parent)
    {
        var headers = request.Headers;
        var traceParent = headers.TraceParent;
        if (traceParent.Count == 1)
        {
            var traceState = headers.TraceState;
            return ActivityContext.TryParse(traceParent[0], traceState.Count == 1 ? traceState[0] : null, isRemote: true, out parent);
        }

        parent = default;
        return false;
    }

    private static string ProtocolVersion(string protocol) => protocol switch
    {
        "HTTP/1.1" => "1.1",
        "HTTP/2" => "2",
        "HTTP/3" => "3",
        "HTTP/1.0" => "1.0",
        _ => protocol,
    };

    public void Dispose() => _source.Dispose();
}

/// <summary>Wraps the whole pipeline (the gateway's own endpoints too) in a server span when <see cref="ServerSpans"/> samples the request.</summary>
internal sealed class ServerSpanMiddleware(RequestDelegate next, ServerSpans spans)
{
    public Task InvokeAsync(HttpContext context)
    {
        var activity = spans.Start(context);
        return activity is null ? next(context) : InvokeTracedAsync(context, activity);
    }

    private async Task InvokeTracedAsync(HttpContext context, Activity activity)
    {
        Exception? failure = null;
        try
        {
            await next(context);
        }
        catch (Exception exception)
        {
            failure = exception;
            throw;
        }
        finally
        {
            ServerSpans.Stop(activity, context, failure);
        }
    }
}

/// <summary>Puts <see cref="ServerSpanMiddleware"/> first, around everything the application maps.</summary>
internal sealed class ServerSpanStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseMiddleware<ServerSpanMiddleware>();
        next(app);
    };
}

/// <summary>
/// The gateway's sampler: parent-based at the ratio for everything, except its own root server spans, which
/// <see cref="ServerSpans"/> starts only once it has drawn the request at that ratio (drawing again would keep
/// ratio² of them).
/// </summary>
internal sealed class GatewaySampler(double ratio) : Sampler
{
    private static readonly SamplingResult Keep = new(SamplingDecision.RecordAndSample);
    private readonly ParentBasedSampler _default = new(new TraceIdRatioBasedSampler(ratio));

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        samplingParameters.ParentContext.TraceId == default
        && samplingParameters.Kind == ActivityKind.Server
        && samplingParameters.Name == ServerSpans.ActivityName
            ? Keep
            : _default.ShouldSample(samplingParameters);
}
