using System.Collections.Concurrent;
using System.Text;
using AgentAspire.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AppHost.Tests.FirstHour;

/// <summary>One log record as a service exported it over OTLP: who, when, how severe, which logger, what it said.</summary>
internal sealed record ExportedLog(string Service, DateTimeOffset Time, int SeverityNumber, string Category, string Body)
{
    /// <summary>OTLP severity numbers 17–24 are ERROR and FATAL (what <c>LogLevel.Error</c> and <c>Critical</c> map to).</summary>
    public bool IsErrorOrWorse => SeverityNumber >= 17;

    public override string ToString() => $"{Time:HH:mm:ss.fff} {Service} severity {SeverityNumber} [{Category}] {Body}";
}

/// <summary>
/// An OTLP/HTTP (protobuf) receiver standing where the dashboard's collector would be: the services export their logs
/// to it exactly as they export to the dashboard, so a test reads each service's own structured logs, with their
/// severity, instead of parsing console text. Traces and metrics are accepted and dropped.
/// </summary>
internal sealed class OtlpLogCollector : IAsyncDisposable
{
    private readonly ConcurrentQueue<ExportedLog> _records = new();
    private LoopbackServer? _server;

    public Uri Endpoint => _server?.Address ?? throw new InvalidOperationException("Not started.");

    public IReadOnlyCollection<ExportedLog> Records => _records;

    public static async Task<OtlpLogCollector> StartAsync()
    {
        var collector = new OtlpLogCollector();
        collector._server = await LoopbackServer.StartAsync(app =>
        {
            app.MapPost("/v1/logs", collector.ReceiveLogsAsync);
            app.MapPost("/v1/traces", Accept);
            app.MapPost("/v1/metrics", Accept);
        });
        return collector;
    }

    public ValueTask DisposeAsync() => _server?.DisposeAsync() ?? ValueTask.CompletedTask;

    // An empty Export*ServiceResponse is zero bytes of protobuf.
    private static IResult Accept() => Results.Bytes([], "application/x-protobuf");

    private async Task<IResult> ReceiveLogsAsync(HttpRequest request)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        foreach (var record in OtlpLogs.Parse(body.ToArray()))
        {
            _records.Enqueue(record);
        }

        return Accept();
    }
}

/// <summary>
/// Reads the few fields of an OTLP <c>ExportLogsServiceRequest</c> the tests need (opentelemetry-proto logs.proto):
/// the resource's <c>service.name</c>, the scope name (the .NET logger category), and each record's time, severity
/// number and body. Protobuf wire format by hand: the suite has no protobuf library, and five fields do not need one.
/// </summary>
internal static class OtlpLogs
{
    public static IEnumerable<ExportedLog> Parse(byte[] request)
    {
        var records = new List<ExportedLog>();
        foreach (var (field, resourceLogs) in Fields(request))
        {
            if (field != 1)
            {
                continue;
            }

            var service = "";
            var scopes = new List<byte[]>();
            foreach (var (inner, value) in Fields(resourceLogs))
            {
                if (inner == 1)
                {
                    service = Attributes(value).GetValueOrDefault("service.name", "");
                }
                else if (inner == 2)
                {
                    scopes.Add(value);
                }
            }

            foreach (var scope in scopes)
            {
                var category = "";
                foreach (var (inner, value) in Fields(scope))
                {
                    if (inner == 1)
                    {
                        category = Fields(value).Where(f => f.Field == 1).Select(f => Encoding.UTF8.GetString(f.Value)).FirstOrDefault() ?? "";
                    }
                    else if (inner == 2)
                    {
                        records.Add(Record(service, category, value));
                    }
                }
            }
        }

        return records;
    }

    private static ExportedLog Record(string service, string category, byte[] record)
    {
        ulong time = 0, observed = 0;
        var severity = 0;
        var body = "";
        foreach (var (field, value) in Fields(record))
        {
            switch (field)
            {
                case 1: time = BitConverter.ToUInt64(value); break;
                case 11: observed = BitConverter.ToUInt64(value); break;
                case 2: severity = (int)Varint(value, 0).Value; break;
                case 5: body = AnyValueString(value); break;
            }
        }

        var nanoseconds = time != 0 ? time : observed;
        return new ExportedLog(service, DateTimeOffset.UnixEpoch.AddTicks((long)(nanoseconds / 100)), severity, category, body);
    }

    private static Dictionary<string, string> Attributes(byte[] resource)
    {
        var attributes = new Dictionary<string, string>();
        foreach (var (field, keyValue) in Fields(resource))
        {
            if (field != 1)
            {
                continue;
            }

            string? key = null, text = null;
            foreach (var (inner, value) in Fields(keyValue))
            {
                if (inner == 1)
                {
                    key = Encoding.UTF8.GetString(value);
                }
                else if (inner == 2)
                {
                    text = AnyValueString(value);
                }
            }

            if (key is not null)
            {
                attributes[key] = text ?? "";
            }
        }

        return attributes;
    }

    // AnyValue: field 1 is string_value; other kinds are not needed here.
    private static string AnyValueString(byte[] anyValue) =>
        Fields(anyValue).Where(f => f.Field == 1).Select(f => Encoding.UTF8.GetString(f.Value)).FirstOrDefault() ?? "";

    /// <summary>The fields of one message: number and raw value (a varint's bytes, fixed bytes, or a LEN payload).</summary>
    private static List<(int Field, byte[] Value)> Fields(byte[] message)
    {
        var fields = new List<(int, byte[])>();
        var position = 0;
        while (position < message.Length)
        {
            var (tag, afterTag) = Varint(message, position);
            position = afterTag;
            var field = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0:
                    var (_, afterVarint) = Varint(message, position);
                    fields.Add((field, message[position..afterVarint]));
                    position = afterVarint;
                    break;
                case 1:
                    fields.Add((field, message[position..(position + 8)]));
                    position += 8;
                    break;
                case 2:
                    var (length, afterLength) = Varint(message, position);
                    var end = afterLength + (int)length;
                    fields.Add((field, message[afterLength..end]));
                    position = end;
                    break;
                case 5:
                    fields.Add((field, message[position..(position + 4)]));
                    position += 4;
                    break;
                default:
                    throw new FormatException($"Unsupported protobuf wire type {tag & 7} at byte {position}.");
            }
        }

        return fields;
    }

    private static (ulong Value, int Next) Varint(byte[] bytes, int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = bytes[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return (value, position);
            }
        }
    }
}
