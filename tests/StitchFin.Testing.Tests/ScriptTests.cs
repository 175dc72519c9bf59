using System.Net;
using System.Text;
using System.Text.Json;
using StitchFin.Testing.Upstream;

namespace StitchFin.Testing.Tests;

/// <summary>Scripts, rejections and what the upstream records.</summary>
public sealed class ScriptTests : UpstreamClient
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public void The_base_url_is_loopback_v1_with_a_trailing_slash()
    {
        Assert.Equal("127.0.0.1", Upstream.BaseUrl.Host);
        Assert.NotEqual(0, Upstream.BaseUrl.Port);
        Assert.Equal("/v1/", Upstream.BaseUrl.AbsolutePath);
    }

    [Fact]
    public async Task Steps_play_in_order_and_the_last_repeats()
    {
        Upstream.Script("gpt-test", UpstreamStep.Status(500), UpstreamStep.Status(503), UpstreamStep.Reply("ok"));

        var statuses = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await ChatAsync("gpt-test");
            statuses.Add((int)response.StatusCode);
        }

        Assert.Equal([500, 503, 200, 200, 200], statuses);
        Assert.Equal(["status-500", "status-503", "replied", "replied", "replied"],
            await Task.WhenAll(Upstream.RequestsFor("gpt-test").Select(r => r.Finished)));
    }

    [Fact]
    public async Task Scripting_a_model_again_replaces_its_script_and_restarts_it()
    {
        Upstream.Script("gpt-test", UpstreamStep.Status(500), UpstreamStep.Reply("first"));
        using (var first = await ChatAsync("gpt-test"))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, first.StatusCode);
        }

        Upstream.Script("gpt-test", UpstreamStep.Status(503), UpstreamStep.Reply("second"));
        using (var second = await ChatAsync("gpt-test"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        }

        using var third = await ChatAsync("gpt-test");
        Assert.Equal("second", (await JsonAsync(third)).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task Models_have_their_own_scripts()
    {
        Upstream.Script("model-a", UpstreamStep.Reply("from a"));
        Upstream.Script("model-b", UpstreamStep.Status(500));

        using var a = await ChatAsync("model-a");
        using var b = await ChatAsync("model-b");

        Assert.Equal(HttpStatusCode.OK, a.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, b.StatusCode);
        Assert.Equal(["model-a", "model-b"], Upstream.Requests.Select(r => r.Model));
        Assert.Equal(0, Upstream.RequestsFor("model-b")[0].Index);
    }

    [Fact]
    public async Task An_unscripted_model_does_not_exist()
    {
        using var response = await ChatAsync("nobody");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = (await JsonAsync(response)).GetProperty("error");
        Assert.Equal("The model 'nobody' does not exist", error.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("model", error.GetProperty("param").GetString());
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        Assert.Equal("model-not-found", await Assert.Single(Upstream.RequestsFor("nobody")).Finished);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1, 2]")]
    [InlineData("""{"messages":[]}""")]
    [InlineData("""{"model":42}""")]
    public async Task A_body_without_a_string_model_is_a_400(string body)
    {
        Upstream.Script("gpt-test", UpstreamStep.Reply("unused"));

        using var response = await PostAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await JsonAsync(response)).GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        var request = Assert.Single(Upstream.Requests);
        Assert.Equal("", request.Model);
        Assert.Equal(body, request.Body);
        Assert.Equal("bad-request", await request.Finished);
    }

    [Fact]
    public async Task Other_paths_are_404()
    {
        using var models = await Http.GetAsync(new Uri(Upstream.BaseUrl, "models"));
        using var completions = await Http.PostAsync(new Uri(Upstream.BaseUrl, "completions"),
            new StringContent(Body("gpt-test"), Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.NotFound, models.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, completions.StatusCode);
        Assert.Equal(["/v1/models", "/v1/completions"], Upstream.Requests.Select(r => r.Path));
    }

    [Fact]
    public async Task Requests_are_recorded_with_headers_messages_and_event_times()
    {
        Upstream.Script("gpt-test", UpstreamStep.Reply("Hello big world"));

        using (var json = await PostAsync(Body("gpt-test", content: "What's up?"), headers: h => h.Add("X-Request-Id", "abc-123")))
        {
            await json.Content.ReadAsStringAsync();
        }

        using (var stream = await ChatAsync("gpt-test", stream: true, includeUsage: true))
        {
            await EventsAsync(stream);
        }

        var requests = await Upstream.WaitForRequestsAsync("gpt-test", 2, Patience);
        var first = requests[0];
        Assert.Equal(0, first.Index);
        Assert.Equal("POST", first.Method);
        Assert.Equal("/v1/chat/completions", first.Path);
        Assert.False(first.Stream);
        Assert.False(first.IncludeUsage);
        Assert.Equal("abc-123", first.Headers["x-request-id"]);
        Assert.StartsWith("application/json", first.Headers["Content-Type"], StringComparison.Ordinal);
        Assert.Equal([new UpstreamMessage("system", "Be brief."), new UpstreamMessage("user", "What's up?")], first.Messages);
        Assert.Equal("gpt-test", JsonDocument.Parse(first.Body).RootElement.GetProperty("model").GetString());
        Assert.Equal("replied", await first.Finished);
        Assert.Empty(first.ChunkSentAt);

        var second = requests[1];
        Assert.Equal(1, second.Index);
        Assert.True(second.Stream);
        Assert.True(second.IncludeUsage);
        Assert.True(second.ReceivedAt > first.ReceivedAt);
        Assert.Equal("replied", await second.Finished);
        // role, three words, finish, usage, [DONE]
        Assert.Equal(7, second.ChunkSentAt.Count);
        Assert.All(second.ChunkSentAt, t => Assert.True(t >= second.ReceivedAt));
        Assert.Equal(second.ChunkSentAt.Order(), second.ChunkSentAt);
    }

    [Fact]
    public async Task Multi_part_content_is_recorded_as_text()
    {
        Upstream.Script("gpt-test", UpstreamStep.Reply("ok"));
        const string body = """
            {"model":"gpt-test","messages":[{"role":"user","content":[{"type":"text","text":"Hello "},{"type":"text","text":"there"}]},
             {"role":"assistant","content":null}]}
            """;

        using var response = await PostAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([new UpstreamMessage("user", "Hello there"), new UpstreamMessage("assistant", "")],
            Upstream.RequestsFor("gpt-test")[0].Messages);
    }

    [Fact]
    public async Task Waiting_for_requests_completes_when_they_arrive()
    {
        Upstream.Script("gpt-test", UpstreamStep.Silent());

        var waiting = Upstream.WaitForRequestsAsync("gpt-test", 2, Patience);
        Assert.False(waiting.IsCompleted);
        using var giveUp = new CancellationTokenSource();
        var calls = new[] { ChatAsync("gpt-test", cancellationToken: giveUp.Token), ChatAsync("gpt-test", cancellationToken: giveUp.Token) };

        var seen = await waiting;
        Assert.Equal(2, seen.Count);
        Assert.All(seen, r => Assert.Null(r.Outcome));
        await giveUp.CancelAsync();
        foreach (var call in calls)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        }
    }

    [Fact]
    public async Task Waiting_for_requests_that_never_come_times_out_saying_what_came()
    {
        Upstream.Script("gpt-test", UpstreamStep.Status(500));
        using (await ChatAsync("gpt-test"))
        {
        }

        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => Upstream.WaitForRequestsAsync("gpt-test", 2, TimeSpan.FromMilliseconds(100)));

        Assert.Contains("saw 1", timeout.Message, StringComparison.Ordinal);
        Assert.Contains("status-500", timeout.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disposing_releases_a_held_request()
    {
        await using var upstream = await FaultyUpstream.StartAsync();
        upstream.Script("gpt-test", UpstreamStep.Silent());
        using var client = new HttpClient { Timeout = Patience };
        var call = client.PostAsync(new Uri(upstream.BaseUrl, "chat/completions"),
            new StringContent(Body("gpt-test"), Encoding.UTF8, "application/json"));
        var request = Assert.Single(await upstream.WaitForRequestsAsync("gpt-test", 1, Patience));

        await upstream.DisposeAsync();

        // The client sees the connection drop rather than waiting for its own timeout.
        await Assert.ThrowsAsync<HttpRequestException>(() => call);
        Assert.Equal("silent-disposed", await request.Finished);
    }
}

/// <summary>An upstream that demands an API key.</summary>
public sealed class ApiKeyTests : UpstreamClient
{
    private const string Key = "sk-test-123";

    protected override string? ApiKey => Key;

    [Theory]
    [InlineData(null)]
    [InlineData("sk-wrong")]
    public async Task A_request_without_the_key_is_401(string? key)
    {
        Upstream.Script("gpt-test", UpstreamStep.Reply("ok"));

        using var response = await PostAsync(Body("gpt-test"), apiKey: key);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = (await JsonAsync(response)).GetProperty("error");
        Assert.Equal("Incorrect API key provided.", error.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
        Assert.Equal("unauthorized", await Assert.Single(Upstream.RequestsFor("gpt-test")).Finished);
    }

    [Fact]
    public async Task A_request_with_the_key_plays_the_script_from_its_first_step()
    {
        Upstream.Script("gpt-test", UpstreamStep.Reply("first"), UpstreamStep.Status(500));

        using (await PostAsync(Body("gpt-test")))
        {
        }

        using var response = await PostAsync(Body("gpt-test"), apiKey: Key);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("first", (await JsonAsync(response)).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal($"Bearer {Key}", Upstream.RequestsFor("gpt-test")[1].Headers["authorization"]);
    }
}
