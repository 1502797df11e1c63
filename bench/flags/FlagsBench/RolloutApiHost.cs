using RolloutApi.Apis;
using RolloutApi.Extensions;
using RolloutApi.Flags;
using RolloutApi.Hosting;

namespace FlagsBench;

/// <summary>
/// RolloutApi as its Program.cs builds it (storage, auth, routing, pipeline) plus the two lines that wire flags, for as long
/// as Program.cs does not call them itself. run.sh prefers the real RolloutApi when it serves the flag endpoints.
/// </summary>
internal static class RolloutApiHost
{
    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults(RolloutApiTelemetry.MeterName);
        builder.AddApplicationServices();
        builder.Services.AddFlagsFeature();

        var app = builder.Build();
        app.UseApiPipeline();
        app.MapRoutingApi();
        app.MapAgentsApi();
        app.MapFlagsApi();
        app.MapApiDocumentation();
        app.MapDefaultEndpoints();
        await app.RunAsync();
        return 0;
    }
}
