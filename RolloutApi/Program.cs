using RolloutApi.Apis;
using RolloutApi.Extensions;
using RolloutApi.Hosting;
using RolloutApi.Live;
using RolloutApi.Page;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(RolloutApiTelemetry.MeterName);
builder.AddApplicationServices();

var app = builder.Build();
app.UseApiPipeline();

app.MapRoutingApi();
app.MapAgentsApi();
app.MapRevisionsApi();
app.MapRolloutsApi();
app.MapFlagsApi();
app.MapAnalysisApi();
app.MapAuditApi();
app.MapLiveApi();
app.MapRolloutPage();
app.MapApiDocumentation();
app.MapDefaultEndpoints();

app.Run();

/// <summary>The entry point, public so that WebApplicationFactory can host it in tests.</summary>
public partial class Program;
