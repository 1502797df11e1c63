using Gateway.Apis;
using Gateway.Extensions;
using Gateway.Stats;

var builder = WebApplication.CreateBuilder(args);

builder.AddGatewayTelemetry(); // first: it decides whether ServiceDefaults adds ASP.NET Core's server spans
builder.AddServiceDefaults(GatewayMetrics.MeterName);
builder.AddApplicationServices();

var app = builder.Build();

app.MapGatewayApi();
app.MapDefaultEndpoints();
app.MapAgentProxy();

app.Run();

/// <summary>The entry point, public so that WebApplicationFactory can host it in tests.</summary>
public partial class Program;
