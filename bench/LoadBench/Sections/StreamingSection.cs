using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json;
using StitchFin.LoadBench.Load;
using StitchFin.LoadBench.Reporting;
using StitchFin.Testing;
using StitchFin.Testing.Upstream;

namespace StitchFin.LoadBench.Sections;

/// <summary>
/// Section 5: what the gateway adds to a stream's time to first token. One client alternates a streamed chat
/// completion straight to an OpenAI-compatible upstream (the fault-injecting one, answering normally) with the same
/// through the edge's <c>/v1/chat/completions</c> to an agent on that upstream; both clocks stop at the first content
/// delta.
/// </summary>
public static class StreamingSection
{
    private const double TargetAddedMs = 2;
    private const string Model = "bench-stream";
    private const string Reply = "one two three four five six seven eight";
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(2);

    public static async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var system = context.System;
        system.Upstream.Script(Model, UpstreamStep.Reply(Reply));
        var agent = await context.Tenant.ExpectAsync(HttpMethod.Post, "/agents", System.Net.HttpStatusCode.Created, new
        {
            name = "stream-bench",
            primaryProvider = StitchFinSystem.UpstreamProvider,
            primaryModel = Model,
        });
        var agentName = agent["name"]!.GetValue<string>();

        using var direct = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 });
        direct.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", StitchFinSystem.UpstreamApiKey);
        using var edge = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 }) { BaseAddress = system.EdgeUrl };
        edge.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", context.Tenant.ApiKey);
        var upstreamUrl = new Uri(system.Upstream.BaseUrl, "chat/completions");
        var directBody = new
        {
            model = Model,
            stream = true,
            stream_options = new { include_usage = true },
            messages = new object[] { new { role = "system", content = "You are helpful." }, new { role = "user", content = "Count to eight" } },
        };
        var edgeBody = new { model = agentName, stream = true, messages = new[] { new { role = "user", content = "Count to eight" } } };

        Progress.Write($"section 5: streaming time to first token, warming up for {Format.Seconds(Warmup)}");
        var warmup = Stopwatch.StartNew();
        while (warmup.Elapsed < Warmup)
        {
            await FirstTokenAsync(direct, upstreamUrl, directBody, cancellationToken);
            await FirstTokenAsync(edge, new Uri("v1/chat/completions", UriKind.Relative), edgeBody, cancellationToken);
        }

        Progress.Write($"section 5: measuring for {Format.Seconds(context.Options.HopDuration)}");
        var directLatencies = new Latencies();
        var edgeLatencies = new Latencies();
        var errors = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < context.Options.HopDuration)
        {
            // Alternating, so drift on a shared machine hits both paths alike.
            Record(directLatencies, await FirstTokenAsync(direct, upstreamUrl, directBody, cancellationToken), ref errors);
            Record(edgeLatencies, await FirstTokenAsync(edge, new Uri("v1/chat/completions", UriKind.Relative), edgeBody, cancellationToken), ref errors);
        }

        var directSummary = directLatencies.Summarize();
        var edgeSummary = edgeLatencies.Summarize();
        var output = context.Output;
        output.WriteLine("## 5. Streaming: time to first token");
        output.WriteLine();
        output.WriteLine($"One client, {Format.Seconds(context.Options.HopDuration)} after a {Format.Seconds(Warmup)} warm-up, alternating a streamed "
            + "chat completion straight to the upstream (an OpenAI-compatible server in the bench process, replying at once) and "
            + "the same through the edge to an agent on it; time from sending the request to the first content delta.");
        output.WriteLine();
        var table = new MarkdownTable("Path", "Requests>", "p50 ms>", "p90 ms>", "p99 ms>", "max ms>");
        table.Add("upstream direct", Format.Count(directSummary.Count), Format.Ms(directSummary.P50), Format.Ms(directSummary.P90), Format.Ms(directSummary.P99), Format.Ms(directSummary.Max));
        table.Add("edge → conversation → providers → upstream", Format.Count(edgeSummary.Count), Format.Ms(edgeSummary.P50), Format.Ms(edgeSummary.P90), Format.Ms(edgeSummary.P99), Format.Ms(edgeSummary.Max));
        table.Add("added by the gateway", Format.None, Format.DeltaMs(edgeSummary.P50 - directSummary.P50), Format.DeltaMs(edgeSummary.P90 - directSummary.P90),
            Format.DeltaMs(edgeSummary.P99 - directSummary.P99), Format.None);
        table.WriteTo(output);

        var added = edgeSummary.P50 - directSummary.P50;
        context.Targets.Add("Streaming time to first token added by the gateway, p50 (1 client)", $"< {TargetAddedMs:0} ms",
            Format.DeltaMs(added), !double.IsNaN(added) && added < TargetAddedMs && errors == 0, errors == 0 ? null : $"{errors} errors");
    }

    private static void Record(Latencies latencies, TimeSpan? firstToken, ref int errors)
    {
        if (firstToken is { } value)
        {
            latencies.Record(value);
        }
        else
        {
            errors++;
        }
    }

    /// <returns>The time to the first content delta, or null when the stream failed or had none.</returns>
    private static async Task<TimeSpan?> FirstTokenAsync(HttpClient client, Uri url, object body, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(body) };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        TimeSpan? firstToken = null;
        var done = false;
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellationToken))
        {
            if (item.Data == "[DONE]")
            {
                done = true;
            }
            else if (firstToken is null && HasContent(item.Data))
            {
                firstToken = Stopwatch.GetElapsedTime(started);
            }
        }

        return done ? firstToken : null;
    }

    private static bool HasContent(string data)
    {
        using var chunk = JsonDocument.Parse(data);
        return chunk.RootElement.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
            && choices[0].TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var content)
            && content.GetString() is { Length: > 0 };
    }
}
