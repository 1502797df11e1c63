using AgentWorker.Apis;
using AgentWorker.Extensions;
using AgentWorker.Telemetry;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults(AgentMetrics.MeterName);
builder.AddAgentDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseProblemDetailsErrors();

app.MapItemsApi();
app.MapDefaultEndpoints();
app.MapAgentEndpoints();

app.Run();

/// <summary>The entry point, public so that WebApplicationFactory can host it in tests.</summary>
public partial class Program;
