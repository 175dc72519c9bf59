using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using StitchFin.Testing.Upstream;

namespace StitchFin.Testing.Tests;

/// <summary>The same steps in Anthropic's Messages API and OpenAI's Responses API: their shapes, events, keys and errors.</summary>
public sealed class NativeApiTests : UpstreamClient
{
    private const string Key = "sk-native-test";

    protected override string? ApiKey => Key;

    [Fact]
    public async Task Anthropic_a_message_has_content_blocks_a_stop_reason_and_cache_reads_apart_from_input_tokens()
    {
        Upstream.Script("claude-test", UpstreamStep.Reply("Hello big world", new UpstreamUsage(20, 3, CachedTokens: 8)));

        using var response = await MessagesAsync("claude-test");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await JsonAsync(response);
        Assert.StartsWith("msg_", json.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal(("message", "assistant", "end_turn"), (json.GetProperty("type").GetString(), json.GetProperty("role").GetString(), json.GetProperty("stop_reason").GetString()));
        Assert.Equal("Hello big world", Assert.Single(json.GetProperty("content").EnumerateArray()).GetProperty("text").GetString());
        var usage = json.GetProperty("usage");
        Assert.Equal((12, 8, 3), (usage.GetProperty("input_tokens").GetInt32(), usage.GetProperty("cache_read_input_tokens").GetInt32(), usage.GetProperty("output_tokens").GetInt32()));
        var request = Assert.Single(Upstream.RequestsFor("claude-test"));
        Assert.Equal((UpstreamApi.AnthropicMessages, "Be brief."), (request.Api, request.System));
        Assert.Equal([new UpstreamMessage("user", "Hi there")], request.Messages);
    }

    [Fact]
    public async Task Anthropic_a_stream_is_typed_events_from_message_start_to_message_stop()
    {
        Upstream.Script("claude-test", UpstreamStep.ToolCalls([new UpstreamToolCall("toolu_1", "get_weather", """{"city":"Paris"}""")], "Checking. "));

        using var response = await MessagesAsync("claude-test", stream: true);

        var events = await TypedEventsAsync(response);
        Assert.Equal(
            ["message_start", "ping", "content_block_start", "content_block_delta", "content_block_stop", "content_block_start",
             "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"],
            events.Select(e => e.Type));
        Assert.All(events, e => Assert.Equal(e.Type, e.Data["type"]!.GetValue<string>()));
        Assert.Equal("tool_use", events[5].Data["content_block"]!["type"]!.GetValue<string>());
        Assert.Equal("""{"city":"Paris"}""", string.Concat(events.Where(e => e.Data["delta"]?["type"]?.GetValue<string>() == "input_json_delta")
            .Select(e => e.Data["delta"]!["partial_json"]!.GetValue<string>())));
        Assert.Equal("tool_use", events[^2].Data["delta"]!["stop_reason"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(null, "2023-06-01", HttpStatusCode.Unauthorized, "authentication_error")]
    [InlineData(Key, null, HttpStatusCode.BadRequest, "invalid_request_error")]
    public async Task Anthropic_needs_its_key_header_and_its_version(string? key, string? version, HttpStatusCode status, string type)
    {
        Upstream.Script("claude-test", UpstreamStep.Reply("unused"));

        using var response = await MessagesAsync("claude-test", key: key, version: version);

        Assert.Equal(status, response.StatusCode);
        var json = await JsonAsync(response);
        Assert.Equal(("error", type), (json.GetProperty("type").GetString(), json.GetProperty("error").GetProperty("type").GetString()));
    }

    [Fact]
    public async Task Anthropic_errors_and_rate_limits_are_in_its_shape()
    {
        Upstream.Script("claude-test", UpstreamStep.RateLimited(retryAfter: TimeSpan.FromSeconds(2)), UpstreamStep.ContextLengthExceeded());

        using var limited = await MessagesAsync("claude-test");
        using var tooLong = await MessagesAsync("claude-test");

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("2", limited.Headers.RetryAfter?.ToString());
        Assert.Equal("rate_limit_error", (await JsonAsync(limited)).GetProperty("error").GetProperty("type").GetString());
        Assert.StartsWith("prompt is too long", (await JsonAsync(tooLong)).GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Responses_a_response_has_output_items_a_status_and_usage()
    {
        Upstream.Script("gpt-test", UpstreamStep.Reply("Hello big world", new UpstreamUsage(20, 3, CachedTokens: 8)));

        using var response = await ResponsesAsync("gpt-test");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await JsonAsync(response);
        Assert.StartsWith("resp_", json.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal(("response", "completed"), (json.GetProperty("object").GetString(), json.GetProperty("status").GetString()));
        var item = Assert.Single(json.GetProperty("output").EnumerateArray());
        Assert.Equal("Hello big world", item.GetProperty("content")[0].GetProperty("text").GetString());
        var usage = json.GetProperty("usage");
        Assert.Equal((20, 8, 3), (usage.GetProperty("input_tokens").GetInt32(), usage.GetProperty("input_tokens_details").GetProperty("cached_tokens").GetInt32(),
            usage.GetProperty("output_tokens").GetInt32()));
        var request = Assert.Single(Upstream.RequestsFor("gpt-test"));
        Assert.Equal((UpstreamApi.Responses, "Be brief."), (request.Api, request.System));
        Assert.Equal([new UpstreamMessage("user", "Hi there")], request.Messages);
    }

    [Fact]
    public async Task Responses_a_stream_numbers_its_events_and_ends_with_the_completed_response()
    {
        Upstream.Script("gpt-test", UpstreamStep.Reply("Hello big world"));

        using var response = await ResponsesAsync("gpt-test", stream: true);

        var events = await TypedEventsAsync(response);
        Assert.Equal(
            ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
             "response.output_text.delta", "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
             "response.content_part.done", "response.output_item.done", "response.completed"],
            events.Select(e => e.Type));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.Data["sequence_number"]!.GetValue<int>()));
        Assert.Single(events.Where(e => e.Data["response"] is not null).Select(e => e.Data["response"]!["id"]!.GetValue<string>()).Distinct());
        Assert.Equal("Hello big world", events[^1].Data["response"]!["output"]![0]!["content"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Responses_a_stream_without_its_finish_has_no_completed_event()
    {
        Upstream.Script("gpt-test", UpstreamStep.NoFinishReason("Hello big world"));

        using var response = await ResponsesAsync("gpt-test", stream: true);

        var events = await TypedEventsAsync(response);
        Assert.DoesNotContain(events, e => e.Type is "response.completed" or "response.incomplete");
        Assert.Equal("response.output_item.done", events[^1].Type);
    }

    /// <summary>A message request; without <paramref name="key"/> the right key is sent OpenAI's way, as a bearer token.</summary>
    private Task<HttpResponseMessage> MessagesAsync(string model, bool stream = false, string? key = Key, string? version = "2023-06-01")
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["max_tokens"] = 100,
            ["system"] = "Be brief.",
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "Hi there" }) }),
            ["stream"] = stream,
        };
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Upstream.BaseUrl, "messages"))
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (key is not null)
        {
            request.Headers.Add("x-api-key", key);
        }
        else
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        }

        if (version is not null)
        {
            request.Headers.Add("anthropic-version", version);
        }

        return Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    private Task<HttpResponseMessage> ResponsesAsync(string model, bool stream = false)
    {
        var body = new JsonObject { ["model"] = model, ["instructions"] = "Be brief.", ["input"] = "Hi there", ["stream"] = stream };
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Upstream.BaseUrl, "responses"))
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        return Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    /// <summary>Every event's type line and data, until the stream ends.</summary>
    private static async Task<List<(string Type, JsonNode Data)>> TypedEventsAsync(HttpResponseMessage response)
    {
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new List<(string, JsonNode)>();
        await foreach (var item in System.Net.ServerSentEvents.SseParser.Create(await response.Content.ReadAsStreamAsync()).EnumerateAsync())
        {
            events.Add((item.EventType, JsonNode.Parse(item.Data)!));
        }

        return events;
    }
}
