using System.Net.Sockets;
using Gateway.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Tests.Routing;

/// <summary>Which failed attempts the gateway may send to another replica: never one that may have run on the agent.</summary>
public sealed class ReplicaRetryTests
{
    private static readonly HttpRequestException Refused =
        new(HttpRequestError.ConnectionError, "Connection refused (127.0.0.1:1)", new SocketException((int)SocketError.ConnectionRefused));

    private static readonly HttpRequestException EndedMidway =
        new(HttpRequestError.ResponseEnded, "The response ended prematurely.", new IOException("reset"));

    [Theory]
    [InlineData("POST", true)]
    [InlineData("GET", false)]
    [InlineData("PUT", true)]
    [InlineData("DELETE", false)]
    public void A_refused_connection_is_retried_whatever_the_method_since_nothing_reached_the_replica(string method, bool hasBody)
    {
        Assert.True(ReplicaRetryMiddleware.IsRetryable(Failed(method, hasBody, ForwarderError.Request, Refused)));
    }

    [Theory]
    [InlineData("GET", false, true)]
    [InlineData("HEAD", false, true)]
    [InlineData("DELETE", false, true)]
    [InlineData("PUT", true, false)]     // idempotent, but its body went to the failed replica
    [InlineData("POST", true, false)]    // may have run: never repeated
    [InlineData("POST", false, false)]
    [InlineData("PATCH", false, false)]
    public void A_request_that_may_have_reached_the_replica_is_retried_only_when_idempotent_and_bodyless(string method, bool hasBody, bool expected)
    {
        Assert.Equal(expected, ReplicaRetryMiddleware.IsRetryable(Failed(method, hasBody, ForwarderError.Request, EndedMidway)));
    }

    [Theory]
    [InlineData(ForwarderError.RequestTimedOut)]
    [InlineData(ForwarderError.RequestBodyDestination)]
    [InlineData(ForwarderError.ResponseBodyDestination)]
    [InlineData(ForwarderError.NoAvailableDestinations)]
    public void Other_forwarder_errors_are_not_retried(ForwarderError error)
    {
        Assert.False(ReplicaRetryMiddleware.IsRetryable(Failed("GET", false, error, Refused)));
    }

    [Fact]
    public void A_started_response_or_a_client_that_left_is_not_retried()
    {
        var started = Failed("GET", false, ForwarderError.Request, Refused);
        started.Features.Set<IHttpResponseFeature>(new StartedResponse());
        var gone = Failed("GET", false, ForwarderError.Request, Refused);
        using var aborted = new CancellationTokenSource();
        aborted.Cancel();
        gone.RequestAborted = aborted.Token;

        Assert.False(ReplicaRetryMiddleware.IsRetryable(started));
        Assert.False(ReplicaRetryMiddleware.IsRetryable(gone));
        Assert.False(ReplicaRetryMiddleware.IsRetryable(new DefaultHttpContext()));
    }

    private static DefaultHttpContext Failed(string method, bool hasBody, ForwarderError error, Exception exception)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Features.Set<IHttpRequestBodyDetectionFeature>(new BodyDetection(hasBody));
        context.Features.Set<IForwarderErrorFeature>(new ErrorFeature(error, exception));
        return context;
    }

    private sealed record BodyDetection(bool CanHaveBody) : IHttpRequestBodyDetectionFeature;

    private sealed record ErrorFeature(ForwarderError Error, Exception? Exception) : IForwarderErrorFeature;

    private sealed class StartedResponse : HttpResponseFeature
    {
        public override bool HasStarted => true;
    }
}
