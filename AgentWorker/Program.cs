var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();

/// <summary>The entry point, public so that WebApplicationFactory can host it in tests.</summary>
public partial class Program;
