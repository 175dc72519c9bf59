using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using StitchFin.Testing.Upstream;

namespace StitchFin.Testing.Tests;

/// <summary>Each fault as a client sees it on the wire.</summary>
public sealed class FaultTests : UpstreamClient
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Rate_limited_sends_429_with_retry_after_in_whole_seconds()
    {
        Upstream.Script("gpt-test", UpstreamStep.RateLimited(retryAfter: TimeSpan.FromSeconds(1.5), retryAfterMs: 1500));

        using var response = await ChatAsync("gpt-test");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("2", Assert.Single(response.Headers.GetValues("Retry-After")));
        Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter?.Delta);
        var json = await JsonAsync(response);
        var error = json.GetProperty("error");
        Assert.Equal("Rate limit reached for requests", error.GetProperty("message").GetString());
        Assert.Equal("requests", error.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.Equal(1500, json.GetProperty("retryAfterMs").GetInt32());
    }

    [Fact]
    public async Task Rate_limited_can_send_retry_after_as_an_http_date()
    {
        var until = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        Upstream.Script("gpt-test", UpstreamStep.RateLimited(retryAfterDate: until));

        using var response = await ChatAsync("gpt-test");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("Wed, 02 Jan 2030 03:04:05 GMT", Assert.Single(response.Headers.GetValues("Retry-After")));
        Assert.Equal(until, response.Headers.RetryAfter?.Date);
        var json = await JsonAsync(response);
        Assert.Equal("rate_limit_exceeded", json.GetProperty("error").GetProperty("code").GetString());
        Assert.False(json.TryGetProperty("retryAfterMs", out _));
    }

    [Fact]
    public async Task Rate_limited_without_a_hint_sends_no_retry_after()
    {
        Upstream.Script("gpt-test", UpstreamStep.RateLimited());

        using var response = await ChatAsync("gpt-test");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.False(response.Headers.Contains("Retry-After"));
    }

    [Theory]
    [InlineData(500, null)]
    [InlineData(503, "overloaded")]
    public async Task Status_sends_that_status_with_a_server_error_body(int status, string? code)
    {
        Upstream.Script("gpt-test", UpstreamStep.Status(status, code));

        using var response = await ChatAsync("gpt-test", stream: true);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = (await JsonAsync(response)).GetProperty("error");
        Assert.Equal("The server had an error while processing your request.", error.GetProperty("message").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.Equal(code, error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Context_length_exceeded_is_a_400_about_the_messages()
    {
        Upstream.Script("gpt-test", UpstreamStep.ContextLengthExceeded());

        using var response = await ChatAsync("gpt-test");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await JsonAsync(response)).GetProperty("error");
        Assert.StartsWith("This model's maximum context length is 8192 tokens.", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("messages", error.GetProperty("param").GetString());
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Content_policy_violation_is_a_400()
    {
        Upstream.Script("gpt-test", UpstreamStep.ContentPolicyViolation());

        using var response = await ChatAsync("gpt-test");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await JsonAsync(response)).GetProperty("error");
        Assert.Equal("Your request was rejected as a result of our safety system.", error.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.Equal("content_policy_violation", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Reset_drops_the_connection_before_the_headers()
    {
        Upstream.Script("gpt-test", UpstreamStep.Reset());

        await Assert.ThrowsAsync<HttpRequestException>(() => ChatAsync("gpt-test"));

        Assert.Equal("reset", await Upstream.RequestsFor("gpt-test")[0].Finished.WaitAsync(Patience));
    }

    [Fact]
    public async Task Silent_never_answers_and_the_request_is_recorded()
    {
        Upstream.Script("gpt-test", UpstreamStep.Silent());

        using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ChatAsync("gpt-test", cancellationToken: giveUp.Token));

        var request = Assert.Single(Upstream.RequestsFor("gpt-test"));
        Assert.Equal("silent-aborted", await request.Finished.WaitAsync(Patience));
    }

    [Fact]
    public async Task Cut_after_ends_the_stream_abruptly_after_that_many_words()
    {
        Upstream.Script("gpt-test", UpstreamStep.CutAfter(2, "one two three four"));

        using var response = await ChatAsync("gpt-test", stream: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (events, error) = await EventsUntilEndAsync(response);

        // The connection drops: an IOException (HttpIOException: the response ended prematurely), or at worst a bare EOF.
        Assert.True(error is null or IOException or HttpRequestException, error?.ToString());
        Assert.Equal(3, events.Count);
        Assert.Equal(["one ", "two "], events[1..].Select(e => Delta(e).GetProperty("content").GetString()));
        Assert.DoesNotContain("[DONE]", events);
        Assert.Equal("cut", await Upstream.RequestsFor("gpt-test")[0].Finished.WaitAsync(Patience));
    }

    [Fact]
    public async Task Cut_after_without_a_stream_sends_half_a_body_then_drops_the_connection()
    {
        Upstream.Script("gpt-test", UpstreamStep.CutAfter(2, "one two three four"));

        using var response = await ChatAsync("gpt-test");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var error = await Record.ExceptionAsync(() => response.Content.ReadAsStringAsync());
        Assert.True(error is IOException or HttpRequestException, error?.ToString() ?? "the body was read whole");
    }

    [Fact]
    public async Task Stall_after_sends_that_many_words_then_nothing()
    {
        Upstream.Script("gpt-test", UpstreamStep.StallAfter(1, "one two three"));

        using (var response = await ChatAsync("gpt-test", stream: true))
        {
            using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
            Assert.Equal("assistant", Delta((await reader.NextAsync(default))!).GetProperty("role").GetString());
            Assert.Equal("one ", Delta((await reader.NextAsync(default))!).GetProperty("content").GetString());
            using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader.NextAsync(wait.Token));
        }

        // The client gave up and closed the connection: the held request ends.
        Assert.Equal("stalled-aborted", await Upstream.RequestsFor("gpt-test")[0].Finished.WaitAsync(Patience));
    }

    [Fact]
    public async Task Stall_after_without_a_stream_sends_half_a_body_then_nothing()
    {
        Upstream.Script("gpt-test", UpstreamStep.StallAfter(1, "one two three"));

        using var response = await ChatAsync("gpt-test");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => response.Content.ReadAsStringAsync(wait.Token));
    }

    [Fact]
    public async Task Invalid_event_inserts_one_broken_event_in_a_complete_stream()
    {
        Upstream.Script("gpt-test", UpstreamStep.InvalidEvent("one two three", afterContentChunks: 1));

        using var response = await ChatAsync("gpt-test", stream: true);
        var events = await EventsAsync(response);

        Assert.Equal(7, events.Count);
        Assert.Equal("one ", Delta(events[1]).GetProperty("content").GetString());
        Assert.Equal("{\"id\":\"chatcmpl-broken\",\"choices\":[{\"delta\":{\"content\":\"x\"", events[2]);
        Assert.ThrowsAny<JsonException>(() => Parse(events[2]));
        Assert.Equal(["two ", "three"], events[3..5].Select(e => Delta(e).GetProperty("content").GetString()));
        Assert.Equal("stop", FinishReason(events[5]));
        Assert.Equal("[DONE]", events[6]);
    }

    [Fact]
    public async Task Invalid_event_without_a_stream_answers_200_with_a_body_that_is_not_json()
    {
        Upstream.Script("gpt-test", UpstreamStep.InvalidEvent("one two three"));

        using var response = await ChatAsync("gpt-test");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.ThrowsAny<JsonException>(() => Parse(body));
    }

    [Fact]
    public async Task Fail_for_answers_503_until_the_duration_has_passed_then_plays_the_next_step()
    {
        var duration = TimeSpan.FromMilliseconds(300);
        Upstream.Script("gpt-test", UpstreamStep.FailFor(duration, UpstreamStep.Reply("back")));

        var started = Stopwatch.GetTimestamp();
        var statuses = new List<HttpStatusCode>();
        while (statuses.LastOrDefault() != HttpStatusCode.OK)
        {
            Assert.True(statuses.Count < 1000, "FailFor never recovered");
            if (statuses.Count > 0)
            {
                await Task.Delay(20);
            }

            using var response = await ChatAsync("gpt-test");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Assert.True(Stopwatch.GetElapsedTime(started) >= duration, "recovered before the duration had passed");
                Assert.Equal("back", (await JsonAsync(response)).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
            }
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, statuses[0]);
        Assert.All(statuses[..^1], s => Assert.Equal(HttpStatusCode.ServiceUnavailable, s));
    }

    [Fact]
    public async Task Fail_for_can_fail_with_another_status()
    {
        Upstream.Script("gpt-test", UpstreamStep.FailFor(TimeSpan.FromMinutes(1), UpstreamStep.Reply("never"), status: 500));

        using var response = await ChatAsync("gpt-test");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("status-500", await Upstream.RequestsFor("gpt-test")[0].Finished.WaitAsync(Patience));
    }

    [Fact]
    public void Steps_describe_themselves()
    {
        Assert.Equal("Reply(\"hi\")", UpstreamStep.Reply("hi").ToString());
        Assert.Equal("RateLimited(Retry-After: 3)", UpstreamStep.RateLimited(TimeSpan.FromSeconds(2.1)).ToString());
        Assert.Throws<ArgumentException>(() => UpstreamStep.RateLimited(TimeSpan.FromSeconds(1), DateTimeOffset.UnixEpoch));
        Assert.Contains(DateTimeOffset.UnixEpoch.ToString("r", CultureInfo.InvariantCulture),
            UpstreamStep.RateLimited(retryAfterDate: DateTimeOffset.UnixEpoch).ToString(), StringComparison.Ordinal);
    }
}
