using System.Net;

namespace AgentWorker.Processing;

/// <summary>Why processing a valid item failed.</summary>
public enum ProcessingFailure
{
    /// <summary>Fault injection failed the item on purpose (<c>Worker:Faults:FailureRate</c>).</summary>
    InjectedFault,

    /// <summary>The upstream call failed or answered with an error status.</summary>
    UpstreamFailed,
}

/// <summary>A valid item whose processing failed; counted in <c>agent_failed_items_total</c>.</summary>
public sealed class ProcessingException(ProcessingFailure failure, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    public ProcessingFailure Failure { get; } = failure;

    /// <summary>The HTTP status the synchronous endpoint answers with.</summary>
    public HttpStatusCode StatusCode => Failure switch
    {
        ProcessingFailure.UpstreamFailed => HttpStatusCode.BadGateway,
        _ => HttpStatusCode.InternalServerError,
    };
}
