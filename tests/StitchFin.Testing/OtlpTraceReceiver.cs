using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace StitchFin.Testing;

/// <summary>One span as exported over OTLP.</summary>
public sealed record ReceivedSpan(
    string Service,
    string TraceId,
    string SpanId,
    string ParentSpanId,
    string Name,
    string Scope,
    IReadOnlyDictionary<string, string> Attributes,
    IReadOnlyList<string> LinkedTraceIds);

/// <summary>
/// An OTLP/HTTP (protobuf) trace endpoint for tests: the services export to it exactly as they would to
/// Jaeger's collector, and tests read the spans back. Only the fields the tests need are decoded.
/// </summary>
public sealed class OtlpTraceReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentBag<ReceivedSpan> _spans = [];
    private readonly ConcurrentQueue<string> _errors = new();

    private OtlpTraceReceiver(WebApplication app) => _app = app;

    public Uri Endpoint => new(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public IReadOnlyCollection<ReceivedSpan> Spans => _spans;

    /// <summary>Export requests this receiver could not decode (a test that misses spans says why).</summary>
    public IReadOnlyCollection<string> Errors => _errors;

    public static async Task<OtlpTraceReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpTraceReceiver(app);
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer);
            try
            {
                foreach (var span in Decode(buffer.ToArray()).ToList())
                {
                    receiver._spans.Add(span);
                }
            }
            catch (Exception ex) when (ex is InvalidDataException or ArgumentException or IndexOutOfRangeException)
            {
                receiver._errors.Enqueue($"{buffer.Length} bytes, {request.ContentType}: {ex.GetType().Name} {ex.Message}");
            }

            return Results.Bytes([], "application/x-protobuf");
        });
        // Metrics and logs are exported too; accepted and dropped.
        app.MapPost("/v1/metrics", () => Results.Bytes([], "application/x-protobuf"));
        app.MapPost("/v1/logs", () => Results.Bytes([], "application/x-protobuf"));
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    // ExportTraceServiceRequest: 1 resource_spans. ResourceSpans: 1 resource, 2 scope_spans.
    // Resource: 1 attributes. ScopeSpans: 1 scope (InstrumentationScope: 1 name), 2 spans.
    // Span: 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 9 attributes, 13 links (Link: 1 trace_id).
    // KeyValue: 1 key, 2 value (AnyValue: 1 string, 2 bool, 3 int, 4 double).
    private static IEnumerable<ReceivedSpan> Decode(byte[] request)
    {
        foreach (var resourceSpans in Fields(request).Where(f => f.Number == 1).Select(f => f.Bytes))
        {
            var service = "";
            foreach (var field in Fields(resourceSpans))
            {
                if (field.Number == 1)
                {
                    var attributes = Attributes(Fields(field.Bytes).Where(f => f.Number == 1).Select(f => f.Bytes));
                    service = attributes.GetValueOrDefault("service.name", "");
                }
            }

            foreach (var scopeSpans in Fields(resourceSpans).Where(f => f.Number == 2).Select(f => f.Bytes))
            {
                var scope = Fields(scopeSpans).Where(f => f.Number == 1)
                    .Select(f => Fields(f.Bytes).Where(g => g.Number == 1).Select(g => Encoding.UTF8.GetString(g.Bytes)).FirstOrDefault() ?? "")
                    .FirstOrDefault() ?? "";
                foreach (var span in Fields(scopeSpans).Where(f => f.Number == 2).Select(f => f.Bytes))
                {
                    var fields = Fields(span).ToList();
                    string Hex(int number) => Convert.ToHexStringLower(fields.FirstOrDefault(f => f.Number == number).Bytes ?? []);
                    yield return new ReceivedSpan(
                        service,
                        Hex(1),
                        Hex(2),
                        Hex(4),
                        Encoding.UTF8.GetString(fields.FirstOrDefault(f => f.Number == 5).Bytes ?? []),
                        scope,
                        Attributes(fields.Where(f => f.Number == 9).Select(f => f.Bytes)),
                        fields.Where(f => f.Number == 13)
                            .Select(f => Convert.ToHexStringLower(Fields(f.Bytes).FirstOrDefault(g => g.Number == 1).Bytes ?? []))
                            .ToList());
                }
            }
        }
    }

    private static Dictionary<string, string> Attributes(IEnumerable<byte[]> keyValues)
    {
        var result = new Dictionary<string, string>();
        foreach (var keyValue in keyValues)
        {
            var fields = Fields(keyValue).ToList();
            var key = Encoding.UTF8.GetString(fields.FirstOrDefault(f => f.Number == 1).Bytes ?? []);
            var anyValue = fields.FirstOrDefault(f => f.Number == 2).Bytes ?? [];
            var value = Fields(anyValue).Select(v => v.Number switch
            {
                1 => Encoding.UTF8.GetString(v.Bytes ?? []),
                2 => (v.Varint != 0).ToString().ToLowerInvariant(),
                3 => ((long)v.Varint).ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => "",
            }).FirstOrDefault() ?? "";
            result[key] = value;
        }

        return result;
    }

    private readonly record struct Field(int Number, byte[] Bytes, ulong Varint);

    private static IEnumerable<Field> Fields(byte[] message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var tag = ReadVarint(message, ref position);
            var number = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    yield return new Field(number, [], ReadVarint(message, ref position));
                    break;
                case 1:
                    yield return new Field(number, message[position..(position + 8)], BitConverter.ToUInt64(message, position));
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message, ref position);
                    yield return new Field(number, message[position..(position + length)], 0);
                    position += length;
                    break;
                case 5:
                    yield return new Field(number, message[position..(position + 4)], BitConverter.ToUInt32(message, position));
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"unsupported protobuf wire type {tag & 7}");
            }
        }
    }

    private static ulong ReadVarint(byte[] buffer, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = buffer[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }
    }
}
