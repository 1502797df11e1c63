using RolloutApi.Routing;

namespace RolloutApi.Apis;

/// <summary>
/// How many gateways applied a routing change, on the response of every call that can change routing, for clients
/// that read headers (the body of <c>PUT weight</c> is the route contract; rollout operations also carry <c>gateways</c>).
/// </summary>
public static class GatewayHeaders
{
    public const string Applied = "Gateways-Applied";
    public const string Known = "Gateways-Known";
    public const string Revision = "Routing-Revision";

    public static void Set(HttpResponse response, GatewayAcknowledgement acknowledgement)
    {
        response.Headers[Applied] = acknowledgement.Applied.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers[Known] = acknowledgement.Known.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers[Revision] = acknowledgement.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
