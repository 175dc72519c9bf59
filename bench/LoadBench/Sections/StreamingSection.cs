using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.LoadBench.Load;
using StitchFin.LoadBench.Reporting;
using StitchFin.LoadBench.Targets;
using StitchFin.Testing;
using StitchFin.Testing.Upstream;

namespace StitchFin.LoadBench.Sections;

/// <summary>
/// Section 5: what the gateway adds to a stream's time to first token, hop by hop. One client takes turns: a streamed
/// chat completion straight to an OpenAI-compatible upstream (the fault-injecting one, answering normally), the same
/// from providers and from conversation called directly, and through the edge's <c>/v1/chat/completions</c> to an agent
/// on that upstream; every clock stops at the first content delta.
/// </summary>
public static class StreamingSection
{
    private const double TargetAddedMs = 2;
    private const string Model = "bench-stream";
    private const string Reply = "one two three four five six seven eight";
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(5);

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
        // Identities are signed for the service they are sent to.
        var providersIdentity = SignedIdentityHandler.For(context.SigningKey, context.Tenant.Id, "providers");
        var conversationIdentity = SignedIdentityHandler.For(context.SigningKey, context.Tenant.Id, "conversation");

        using var upstream = new HttpClient(BenchHttp.CreateHandler(1));
        upstream.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", StitchFinSystem.UpstreamApiKey);
        using var providers = BenchHttp.ForInternal(system.ServiceUrl("providers"), providersIdentity, 1);
        using var conversation = BenchHttp.ForInternal(system.ServiceUrl("conversation"), conversationIdentity, 1);
        using var edge = new HttpClient(BenchHttp.CreateHandler(1)) { BaseAddress = system.EdgeUrl };
        edge.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", context.Tenant.ApiKey);
        var chat = new { model = agentName, stream = true, messages = new[] { new { role = "user", content = "Count to eight" } } };
        StreamTarget[] targets =
        [
            new("upstream direct", upstream, new Uri(system.Upstream.BaseUrl, "chat/completions"), new
            {
                model = Model,
                stream = true,
                stream_options = new { include_usage = true },
                messages = new object[] { new { role = "system", content = "You are helpful." }, new { role = "user", content = "Count to eight" } },
            }),
            new("providers direct: `POST /internal/completions`", providers, new Uri("internal/completions", UriKind.Relative),
                new CompletionRequest(StitchFinSystem.UpstreamProvider, null, "You are helpful.", "Count to eight", Model)),
            new("conversation direct: `POST /v1/chat/completions`", conversation, new Uri("v1/chat/completions", UriKind.Relative), chat),
            new("edge → conversation → providers → upstream", edge, new Uri("v1/chat/completions", UriKind.Relative), chat),
        ];

        Progress.Write($"section 5: streaming time to first token, warming up for {Format.Seconds(Warmup)}");
        var warmup = Stopwatch.StartNew();
        while (warmup.Elapsed < Warmup)
        {
            foreach (var target in targets)
            {
                await FirstTokenAsync(target, cancellationToken);
            }
        }

        Progress.Write($"section 5: measuring for {Format.Seconds(context.Options.HopDuration)}");
        var latencies = targets.ToDictionary(t => t, _ => new Latencies());
        var errors = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < context.Options.HopDuration)
        {
            // Round robin, so drift on a shared machine hits every path alike.
            foreach (var target in targets)
            {
                if (await FirstTokenAsync(target, cancellationToken) is { } firstToken)
                {
                    latencies[target].Record(firstToken);
                }
                else
                {
                    errors++;
                }
            }
        }

        var summaries = targets.Select(t => latencies[t].Summarize()).ToArray();
        var output = context.Output;
        output.WriteLine("## 5. Streaming: time to first token");
        output.WriteLine();
        output.WriteLine($"One client, {Format.Seconds(context.Options.HopDuration)} after a {Format.Seconds(Warmup)} warm-up, taking turns: a streamed "
            + "chat completion straight to the upstream (an OpenAI-compatible server in the bench process, replying at once), the same "
            + "completion from providers and from conversation with a signed identity, and through the edge to an agent on the "
            + "upstream; time from sending the request to the first content delta.");
        output.WriteLine();
        var table = new MarkdownTable("Path", "Requests>", "p50 ms>", "p90 ms>", "p99 ms>", "max ms>", "p50 over upstream>");
        for (var i = 0; i < targets.Length; i++)
        {
            var summary = summaries[i];
            table.Add(targets[i].Label, Format.Count(summary.Count), Format.Ms(summary.P50), Format.Ms(summary.P90), Format.Ms(summary.P99),
                Format.Ms(summary.Max), i == 0 ? Format.None : Format.DeltaMs(summary.P50 - summaries[0].P50));
        }

        table.WriteTo(output);

        var added = summaries[^1].P50 - summaries[0].P50;
        context.Targets.Add("Streaming time to first token added by the gateway, p50 (1 client)", $"< {TargetAddedMs:0} ms",
            Format.DeltaMs(added), !double.IsNaN(added) && added < TargetAddedMs && errors == 0, errors == 0 ? null : $"{errors} errors");
    }

    private sealed record StreamTarget(string Label, HttpClient Client, Uri Url, object Body);

    /// <returns>The time to the first content delta, or null when the stream failed or had none.</returns>
    private static async Task<TimeSpan?> FirstTokenAsync(StreamTarget target, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = JsonContent.Create(target.Body) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await target.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        TimeSpan? firstToken = null;
        var done = false;
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellationToken))
        {
            // OpenAI's stream ends with [DONE]; providers' internal stream with a completed event.
            if (item.Data == "[DONE]" || item.EventType == CompletionStreamEvents.Completed)
            {
                done = true;
            }
            else if (firstToken is null && HasContent(item))
            {
                firstToken = Stopwatch.GetElapsedTime(started);
            }
        }

        return done ? firstToken : null;
    }

    private static bool HasContent(SseItem<string> item)
    {
        if (item.EventType == CompletionStreamEvents.Delta)
        {
            return true;
        }

        using var chunk = JsonDocument.Parse(item.Data);
        return chunk.RootElement.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
            && choices[0].TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var content)
            && content.GetString() is { Length: > 0 };
    }
}
