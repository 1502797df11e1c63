using UpstreamApi.Apis;
using UpstreamApi.Faults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults(UpstreamMetrics.MeterName);
builder.AddUpstreamSimulator();

var app = builder.Build();

app.UseStatusCodePages();
app.MapWorkApi();
app.MapFaultsApi();
app.MapDefaultEndpoints();

app.Run();

/// <summary>The entry point, public so that WebApplicationFactory can host it in tests.</summary>
public partial class Program;
