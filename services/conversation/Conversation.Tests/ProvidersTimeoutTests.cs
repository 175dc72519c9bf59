using System.Net;
using StitchFin.Conversation.Tests.Infrastructure;
using StitchFin.Testing;

namespace StitchFin.Conversation.Tests;

/// <summary>
/// Conversation's wait on providers (<c>ProvidersClient:Timeout</c>, 5 s in these tests) counts from the call, as
/// providers' own deadline counts from its receipt, so it bounds a streamed reply as a whole. The service's clock is
/// a fake one, so the stream's share of the wait runs out only when the test moves it.
/// </summary>
public sealed class ProvidersTimeoutTests : IClassFixture<FakeClockConversationFixture>
{
    private readonly FakeClockConversationFixture _fixture;

    public ProvidersTimeoutTests(FakeClockConversationFixture fixture)
    {
        _fixture = fixture;
        fixture.Providers.Reset();
    }

    [Fact]
    public async Task A_stream_that_stalls_is_given_up_once_the_timeout_counted_from_the_call_has_run_out()
    {
        var tenant = _fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();
        var called = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _fixture.Providers.Reset(async (request, context) =>
        {
            called.TrySetResult();
            await answer.Task;
            // The start and the first word, then silence until conversation hangs up.
            return FakeProviders.Stream(FakeProviders.Result(request),
                beforeDelta: i => i == 0 ? Task.CompletedTask : Task.Delay(Timeout.Infinite, context.RequestAborted));
        });

        var sending = StreamedReply.SendAsync(tenant.Http, $"/sessions/{session}/messages", """{"content":"Tell me a long story"}""", "stalled-stream");
        await called.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // Providers takes 4 of the 5 s before its stream begins...
        _fixture.Clock.Advance(TimeSpan.FromSeconds(4));
        answer.SetResult();
        // Disposed only once it ended: disposing a stream still being read would hide the failure.
        var reply = await sending;
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("start", (await reply.NextAsync())!.Value.EventType);
        Assert.Equal("delta", (await reply.NextAsync())!.Value.EventType);

        // ...then goes silent: 2 s later the call is 6 s old, though the stream began only 2 s ago.
        _fixture.Clock.Advance(TimeSpan.FromSeconds(2));

        var rest = reply.RestAsync();
        Assert.True(await Task.WhenAny(rest, Task.Delay(TimeSpan.FromSeconds(30))) == rest, "The stream outlived the timeout counted from the call.");
        Assert.Equal(["error"], (await rest).Select(e => e.EventType));
        await reply.DisposeAsync();
        Assert.Equal(0, (await tenant.GetOkAsync($"/sessions/{session}"))["messageCount"]!.GetValue<int>());
    }
}
