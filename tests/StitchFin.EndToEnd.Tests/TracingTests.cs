using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;

namespace StitchFin.EndToEnd.Tests;

[Collection(SystemCollection.Name)]
public sealed class TracingTests(StitchFinSystem system)
{
    [Fact]
    public async Task A_message_makes_one_trace_from_the_edge_to_the_metering_consumer()
    {
        var tenant = await Tenant.CreateAsync(system);
        var agent = (await tenant.CreateAgentAsync())["id"]!.GetValue<Guid>();
        var session = (await tenant.CreateSessionAsync(agent))["id"]!.GetValue<Guid>();

        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/sessions/{session}/messages") { Content = JsonContent.Create(new { content = "trace me" }) };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        using var response = await tenant.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);

        List<ReceivedSpan> trace = [];
        for (var attempt = 0; attempt < 100 && !Complete(trace); attempt++)
        {
            await Task.Delay(100);
            trace = system.Traces.Spans.Where(s => s.TraceId == traceId).ToList();
        }

        var summary = string.Join("\n", trace.Select(s => $"{s.Service} {s.Scope} {s.Name} {string.Join(',', s.Attributes.Select(a => $"{a.Key}={a.Value}"))}"));
        Assert.True(Complete(trace), $"incomplete trace {traceId}:\n{summary}\nreceiver errors: {string.Join('\n', system.Traces.Errors)}");

        var attempts = trace.Where(IsVendorAttempt).ToList();
        Assert.All(attempts, span => Assert.Contains(span.Attributes, a => a.Value is "ok" or "error" or "timeout" or "rate_limited"));

        // Every span but the client's own root hangs off another span of the same trace.
        var ids = trace.Select(s => s.SpanId).ToHashSet();
        var orphans = trace.Where(s => !ids.Contains(s.ParentSpanId)).ToList();
        Assert.True(orphans.Count == 1, $"expected one root (the edge's server span), found {orphans.Count}:\n{summary}");
        Assert.Equal("gateway", orphans[0].Service);
    }

    private static bool Complete(IReadOnlyCollection<ReceivedSpan> trace) =>
        trace.Any(s => s.Service == "gateway")
        && trace.Any(s => s.Service == "conversation" && s.Scope.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal))
        && trace.Any(s => s.Service == "providers" && s.Scope.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal))
        && trace.Any(IsVendorAttempt)
        && trace.Any(s => s.Service == "conversation" && s.Scope == "StitchFin.Outbox")
        && trace.Any(s => s.Service == "metering" && s.Scope == "MassTransit" && s.Name.EndsWith(" process", StringComparison.Ordinal))
        && trace.Any(s => s.Service == "metering" && s.Scope == "StitchFin.Metering");

    private static bool IsVendorAttempt(ReceivedSpan span) =>
        span.Service == "providers" && span.Scope == "StitchFin.Providers"
        && span.Attributes.Values.Any(v => v is "VendorA" or "VendorB");
}
