using AgentAspire.Contracts;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Stats;

/// <summary>How a proxied request ended, as the analysis counts it.</summary>
public enum StatusClass
{
    Success = 0,

    /// <summary>A 4xx from the agent: the client's fault, not counted against the track's error rate.</summary>
    ClientError = 1,

    /// <summary>A 5xx from the agent (or from the gateway when no destination was available).</summary>
    ServerError = 2,

    /// <summary>The agent could not be reached or broke the exchange (connect failure, reset, timeout).</summary>
    Transport = 3,
}

/// <summary>Classifies a finished request.</summary>
public static class StatusClasses
{
    // The names /gateway/stats uses for its error counts, so that the metric's label and the JSON agree.
    public const string ClientErrorName = ErrorCounts.ClientErrorName;
    public const string ServerErrorName = ErrorCounts.ServerErrorName;
    public const string TransportName = ErrorCounts.TransportName;

    public static StatusClass Classify(int statusCode, ForwarderError? error)
    {
        if (error is { } e && e != ForwarderError.None && !IsClientSide(e))
        {
            return StatusClass.Transport;
        }

        return statusCode switch
        {
            >= 500 => StatusClass.ServerError,
            >= 400 => StatusClass.ClientError,
            _ => StatusClass.Success,
        };
    }

    public static string NameOf(StatusClass statusClass) => statusClass switch
    {
        StatusClass.ClientError => ClientErrorName,
        StatusClass.ServerError => ServerErrorName,
        StatusClass.Transport => TransportName,
        _ => "success",
    };

    // The client went away or sent a broken body: not the agent's fault, so not a transport error of the track.
    private static bool IsClientSide(ForwarderError error) => error is ForwarderError.RequestCanceled
        or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient
        or ForwarderError.ResponseBodyCanceled or ForwarderError.ResponseBodyClient
        or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeRequestClient
        or ForwarderError.UpgradeResponseCanceled or ForwarderError.UpgradeResponseClient;
}
