using System.Text.Json.Serialization;
using AgentAspire.Contracts;

namespace Gateway.Stream;

/// <summary>Source-generated JSON for the routing table: no reflection on the stream path.</summary>
[JsonSerializable(typeof(RoutingTable))]
[JsonSerializable(typeof(GatewayReport))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;
