using System.Diagnostics;
using System.Net;
using System.Text.Json;
using StitchFin.Testing.Upstream;

namespace StitchFin.Testing.Tests;

/// <summary>Normal answers: OpenAI's JSON and its event stream, with and without usage.</summary>
public sealed class ReplyTests : UpstreamClient
{
    // "Be brief." + "Hi there" = 17 characters: ceil(17 / 4) = 5 prompt tokens; "Hello big world" is 3 word chunks.
    private const int PromptTokens = 5;

    [Fact]
    public async Task A_reply_is_a_chat_completion_with_usage()
    {
        Upstream.Script("gpt-test", UpstreamStep.Reply("Hello big world"));

        using var response = await ChatAsync("gpt-test");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var json = await JsonAsync(response);
        Assert.StartsWith("chatcmpl-", json.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("chat.completion", json.GetProperty("object").GetString());
        Assert.True(json.GetProperty("created").GetInt64() > DateTimeOffset.Parse("2024-01-01", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeSeconds());
        Assert.Equal("gpt-test", json.GetProperty("model").GetString());
        var choice = Assert.Single(json.GetProperty("choices").EnumerateArray());
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal("Hello big world", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        var usage = json.GetProperty("usage");
        Assert.Equal(PromptTokens, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(3, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(PromptTokens + 3, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal("replied", await Upstream.RequestsFor("gpt-test")[0].Finished);
    }

    [Fact]
    public async Task A_stream_sends_the_role_a_chunk_per_word_the_finish_and_done()
    {
        Upstream.Script("gpt-test", UpstreamStep.Reply("Hello big world"));

        using var response = await ChatAsync("gpt-test", stream: true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = await EventsAsync(response);
        Assert.Equal(6, events.Count);
        var role = Delta(events[0]);
        Assert.Equal("assistant", role.GetProperty("role").GetString());
        Assert.Equal("", role.GetProperty("content").GetString());
        Assert.Null(FinishReason(events[0]));
        Assert.Equal(["Hello ", "big ", "world"], events[1..4].Select(e => Delta(e).GetProperty("content").GetString()));
        Assert.All(events[1..4], e => Assert.Null(FinishReason(e)));
        Assert.Empty(Delta(events[4]).EnumerateObject());
        Assert.Equal("stop", FinishReason(events[4]));
        Assert.Equal("[DONE]", events[5]);

        var chunks = events[..5].Select(Parse).ToList();
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.All(chunks, c =>
        {
            Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString());
            Assert.Equal("gpt-test", c.GetProperty("model").GetString());
            Assert.Equal(0, c.GetProperty("choices")[0].GetProperty("index").GetInt32());
            Assert.False(c.TryGetProperty("usage", out _), "no usage field unless stream_options.include_usage");
        });
    }

    [Fact]
    public async Task A_stream_sends_a_usage_chunk_before_done_only_when_asked()
    {
        Upstream.Script("gpt-test", UpstreamStep.Reply("Hello big world"));

        using var response = await ChatAsync("gpt-test", stream: true, includeUsage: true);

        var events = await EventsAsync(response);
        Assert.Equal(7, events.Count);
        Assert.Equal("stop", FinishReason(events[4]));
        var usageChunk = Parse(events[5]);
        Assert.Equal("chat.completion.chunk", usageChunk.GetProperty("object").GetString());
        Assert.Empty(usageChunk.GetProperty("choices").EnumerateArray());
        Assert.Equal(PromptTokens, usageChunk.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(3, usageChunk.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(PromptTokens + 3, usageChunk.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.Equal("[DONE]", events[6]);
        // As OpenAI does: with include_usage, the other chunks carry "usage": null.
        Assert.All(events[..5], e => Assert.Equal(JsonValueKind.Null, Parse(e).GetProperty("usage").ValueKind));
        Assert.Single(events[..6].Select(e => Parse(e).GetProperty("id").GetString()).Distinct());
    }

    [Fact]
    public async Task Usage_can_be_omitted_from_both_the_json_and_the_stream()
    {
        Upstream.Script("gpt-test", UpstreamStep.Reply("Hello world", omitUsage: true));

        using var json = await ChatAsync("gpt-test");
        Assert.False((await JsonAsync(json)).TryGetProperty("usage", out _));

        using var stream = await ChatAsync("gpt-test", stream: true, includeUsage: true);
        var events = await EventsAsync(stream);
        Assert.Equal(5, events.Count);
        Assert.Equal("stop", FinishReason(events[3]));
        Assert.Equal("[DONE]", events[4]);
    }

    [Fact]
    public async Task Usage_and_the_reported_model_can_be_set()
    {
        Upstream.Script("gpt-test", UpstreamStep.Reply("Hi", usage: new UpstreamUsage(100, 7), reportedModel: "gpt-4o-2024-08-06"));

        using var response = await ChatAsync("gpt-test");
        var json = await JsonAsync(response);
        Assert.Equal("gpt-4o-2024-08-06", json.GetProperty("model").GetString());
        Assert.Equal(100, json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(7, json.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(107, json.GetProperty("usage").GetProperty("total_tokens").GetInt32());

        using var stream = await ChatAsync("gpt-test", stream: true, includeUsage: true);
        var events = await EventsAsync(stream);
        Assert.All(events[..^1], e => Assert.Equal("gpt-4o-2024-08-06", Parse(e).GetProperty("model").GetString()));
        Assert.Equal(107, Parse(events[^2]).GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Chunk_spacing_waits_between_events()
    {
        var spacing = TimeSpan.FromMilliseconds(50);
        Upstream.Script("gpt-test", UpstreamStep.Reply("one two", chunkSpacing: spacing));

        using var response = await ChatAsync("gpt-test", stream: true);
        var events = await EventsAsync(response);

        var sentAt = Upstream.RequestsFor("gpt-test")[0].ChunkSentAt;
        Assert.Equal(events.Count, sentAt.Count);
        for (var i = 1; i < sentAt.Count; i++)
        {
            // A lower bound only; a little slack for the timer's granularity.
            Assert.True(Stopwatch.GetElapsedTime(sentAt[i - 1], sentAt[i]) >= spacing - TimeSpan.FromMilliseconds(5), $"gap before event {i}");
        }
    }

    [Fact]
    public async Task Before_chunk_holds_a_chunk_until_the_test_lets_it_go()
    {
        var sawFirstWord = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var asked = new List<int>();
        Upstream.Script("gpt-test", UpstreamStep.Reply("one two", beforeChunk: i =>
        {
            lock (asked)
            {
                asked.Add(i);
            }

            return i == 1 ? sawFirstWord.Task : Task.CompletedTask;
        }));

        using var response = await ChatAsync("gpt-test", stream: true);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("assistant", Delta((await reader.NextAsync(default))!).GetProperty("role").GetString());
        Assert.Equal("one ", Delta((await reader.NextAsync(default))!).GetProperty("content").GetString());
        // The second word is held: at most the role chunk and the first word have been sent.
        Assert.True(Upstream.RequestsFor("gpt-test")[0].ChunkSentAt.Count <= 2);
        sawFirstWord.SetResult();
        Assert.Equal("two", Delta((await reader.NextAsync(default))!).GetProperty("content").GetString());
        Assert.Equal("stop", FinishReason((await reader.NextAsync(default))!));
        Assert.Equal("[DONE]", await reader.NextAsync(default));
        Assert.Equal([0, 1], asked);
    }

    [Fact]
    public async Task Omit_done_ends_a_complete_stream_without_done()
    {
        Upstream.Script("gpt-test", UpstreamStep.OmitDone("Hello world"));

        using var response = await ChatAsync("gpt-test", stream: true, includeUsage: true);
        var events = await EventsAsync(response);

        Assert.Equal(5, events.Count);
        Assert.Equal("stop", FinishReason(events[3]));
        Assert.Equal(PromptTokens + 2, Parse(events[4]).GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.DoesNotContain("[DONE]", events);
        Assert.Equal("replied-without-done", await Upstream.RequestsFor("gpt-test")[0].Finished);

        using var json = await ChatAsync("gpt-test");
        Assert.Equal("Hello world", (await JsonAsync(json)).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task No_finish_reason_streams_content_and_done_without_a_finish_chunk()
    {
        Upstream.Script("gpt-test", UpstreamStep.NoFinishReason("Hello world"));

        using var response = await ChatAsync("gpt-test", stream: true);
        var events = await EventsAsync(response);

        Assert.Equal(4, events.Count);
        Assert.Equal(["Hello ", "world"], events[1..3].Select(e => Delta(e).GetProperty("content").GetString()));
        Assert.All(events[..3], e => Assert.Null(FinishReason(e)));
        Assert.Equal("[DONE]", events[3]);
    }

    [Fact]
    public async Task Delay_first_token_sends_the_role_at_once_and_the_content_later()
    {
        var delay = TimeSpan.FromMilliseconds(200);
        Upstream.Script("gpt-test", UpstreamStep.DelayFirstToken(delay, "late words"));

        using var response = await ChatAsync("gpt-test", stream: true);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("assistant", Delta((await reader.NextAsync(default))!).GetProperty("role").GetString());
        Assert.Equal("late ", Delta((await reader.NextAsync(default))!).GetProperty("content").GetString());
        Assert.Equal("words", Delta((await reader.NextAsync(default))!).GetProperty("content").GetString());
        Assert.Equal("stop", FinishReason((await reader.NextAsync(default))!));
        Assert.Equal("[DONE]", await reader.NextAsync(default));

        var sentAt = Upstream.RequestsFor("gpt-test")[0].ChunkSentAt;
        Assert.True(Stopwatch.GetElapsedTime(sentAt[0], sentAt[1]) >= delay - TimeSpan.FromMilliseconds(5));
    }

    [Fact]
    public async Task Delay_first_token_without_a_stream_delays_the_whole_answer()
    {
        var delay = TimeSpan.FromMilliseconds(200);
        Upstream.Script("gpt-test", UpstreamStep.DelayFirstToken(delay, "late words"));

        var started = Stopwatch.GetTimestamp();
        using var response = await ChatAsync("gpt-test");
        var json = await JsonAsync(response);

        Assert.True(Stopwatch.GetElapsedTime(started) >= delay - TimeSpan.FromMilliseconds(5));
        Assert.Equal("late words", json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }
}
