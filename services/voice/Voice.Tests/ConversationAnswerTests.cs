using System.Net;
using System.Net.Sockets;
using StitchFin.Testing;

namespace StitchFin.Voice.Tests;

/// <summary>Conversation's refusals reach the caller unchanged; an unreachable conversation is a 503 problem.</summary>
public sealed class ConversationAnswerTests(VoiceHost host) : IClassFixture<VoiceHost>
{
    [Fact]
    public async Task Unknown_session_passes_conversations_404_problem_through()
    {
        var unknown = Guid.NewGuid();

        using var response = await host.PostWavAsync(unknown, Recordings.Sine(1));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(FakeConversation.NotFoundProblem(unknown), await response.Content.ReadAsStringAsync());
        Assert.Single(host.Conversation.ReceivedFor(unknown));
        Assert.False(response.Headers.Contains("X-Transcript"));
    }

    [Fact]
    public async Task Both_providers_failing_passes_the_502_problem_with_attempts_through()
    {
        const string problem = """{"title":"All providers failed","status":502,"detail":"VendorA and VendorB failed.","attempts":[{"provider":"VendorA","outcome":"error","status":500,"latencyMs":80},{"provider":"VendorB","outcome":"rate_limited","status":429,"latencyMs":81}],"traceId":"t"}""";
        var session = host.Conversation.NewFailingSession(502, problem);

        using var response = await host.PostWavAsync(session, Recordings.Sine(1), json: true);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(problem, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_conflict_passes_through_with_its_retry_after()
    {
        const string problem = """{"title":"Request in progress","status":409,"detail":"The first request with this key is still running.","traceId":"t"}""";
        var session = host.Conversation.NewFailingSession(409, problem);

        using var response = await host.PostWavAsync(session, Recordings.Sine(1), idempotencyKey: "busy");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(problem, await response.Content.ReadAsStringAsync());
        Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task A_success_without_an_exchange_is_a_502_problem()
    {
        var session = host.Conversation.NewFailingSession(201, "this is not an exchange");

        using var response = await host.PostWavAsync(session, Recordings.Sine(1));

        var body = await Problems.AssertProblemAsync(response, HttpStatusCode.BadGateway);
        Assert.Contains("unreadable exchange", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_conversation_is_a_503_problem_that_names_no_address()
    {
        await using var factory = new ServiceFactory<Program>(VoiceHost.Configuration(ClosedPort(), "beep"));
        var content = new ByteArrayContent(Recordings.Sine(1));
        content.Headers.ContentType = new("audio/wav");

        using var response = await factory.CreateClientFor(Guid.NewGuid()).PostAsync($"/sessions/{Guid.NewGuid()}/voice", content);

        var body = await Problems.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        var detail = body.GetProperty("detail").GetString();
        Assert.Contains("unreachable", detail, StringComparison.Ordinal);
        // Internal addresses stay in the log.
        Assert.DoesNotContain("127.0.0.1", detail, StringComparison.Ordinal);
    }

    /// <summary>A loopback port that was just free: connecting to it is refused.</summary>
    private static Uri ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }
}
