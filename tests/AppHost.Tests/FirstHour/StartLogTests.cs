using System.Net;

namespace AppHost.Tests.FirstHour;

/// <summary>
/// A normal start logs nothing at Error level: the dashboard shows an error badge on any resource that does, and a
/// newcomer takes it for a broken app. Read from each service's own structured logs (OTLP, as the dashboard gets them).
/// </summary>
[Collection(FirstHourCollection.Name)]
public sealed class StartLogTests(FirstHourFixture app)
{
    private const string RequestLogCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";
    private static readonly TimeSpan ExportDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_normal_start_logs_nothing_at_Error_level_in_any_service()
    {
        // Each service logs a request now; once that record has arrived, everything it logged before (the whole start)
        // has been exported too: one exporter per service sends its records in order.
        var marker = DateTimeOffset.UtcNow;
        foreach (var service in FirstHourFixture.Services)
        {
            using var client = app.CreateClient(service);
            using var response = await client.GetAsync("/alive");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var deadline = new CancellationTokenSource(ExportDeadline);
        while (FirstHourFixture.Services.FirstOrDefault(service => !app.Logs.Records.Any(r =>
                   r.Service == service && r.Category == RequestLogCategory && r.Time >= marker)) is { } waiting)
        {
            Assert.False(deadline.IsCancellationRequested,
                $"{waiting} exported no request log within {ExportDeadline.TotalSeconds:0} s of the request; it exported " +
                $"{app.Logs.Records.Count(r => r.Service == waiting)} records in all.");
            await Task.Delay(100);
        }

        // From the AppHost's start until every resource was healthy: the start a newcomer watches in the dashboard.
        var start = app.Logs.Records.Where(r => r.Time >= app.StartedAt && r.Time <= app.HealthyAt).ToList();
        foreach (var service in FirstHourFixture.Services)
        {
            Assert.True(start.Any(r => r.Service == service), $"{service} exported no log record during the start: the check would see nothing.");
        }

        var errors = start.Where(r => r.IsErrorOrWorse).ToList();
        Assert.True(errors.Count == 0,
            $"A normal start logged {errors.Count} record(s) at Error level or worse (start took {app.HealthyAfter.TotalSeconds:0.0} s):\n" +
            string.Join('\n', errors));
    }
}
