using DemoTraffic;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDemoTraffic();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
