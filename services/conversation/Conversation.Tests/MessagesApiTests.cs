using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using StitchFin.Contracts.Providers;
using StitchFin.Conversation.Tests.Infrastructure;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.Testing;

namespace StitchFin.Conversation.Tests;

/// <summary>Tests in a class run one after another, so each may set the fake providers' behaviour for itself.</summary>
public sealed class MessagesApiTests : IClassFixture<ConversationFixture>
{
    private readonly ConversationFixture _fixture;

    public MessagesApiTests(ConversationFixture fixture)
    {
        _fixture = fixture;
        fixture.Providers.Reset();
    }

    [Fact]
    public async Task A_message_is_answered_stored_charged_and_announced_once()
    {
        var tenant = _fixture.NewTenant();
        var agent = await tenant.CreateAgentAsync("VendorA", "VendorB", "Be brief.");
        var session = await tenant.CreateSessionAsync(agent);

        var reply = await tenant.SendMessageAsync(session, "first-key", "What is the weather like on Mars today?");

        Assert.Equal(HttpStatusCode.Created, reply.Status);
        Assert.Equal("application/json", reply.ContentType);
        Assert.False(reply.Replayed);
        var request = Assert.Single(_fixture.Providers.Requests);
        Assert.Equal(new CompletionRequest("VendorA", "VendorB", "Be brief.", "What is the weather like on Mars today?", null, null), request);
        // Conversation's own service identity, acting for the tenant, signed for this one call to providers.
        var providersSigner = new InternalIdentitySigner(
            Options.Create(new InternalIdentityOptions { SigningKey = TestInfrastructure.SigningKey }), TimeProvider.System, new ServiceName("providers"));
        Assert.True(providersSigner.TryVerify(Assert.Single(_fixture.Providers.IdentityHeaders), "POST", "/internal/completions", out var identity, out var failure), failure.ToString());
        Assert.Equal((IdentityKind.Service, "conversation"), (identity!.Kind, identity.Issuer));
        Assert.NotEqual(Guid.Empty, identity.TenantId);

        var exchange = reply.Json;
        var user = exchange["userMessage"]!;
        var assistant = exchange["assistantMessage"]!;
        Assert.Equal("user", user["role"]!.GetValue<string>());
        Assert.Equal("text", user["channel"]!.GetValue<string>());
        Assert.Equal("What is the weather like on Mars today?", user["content"]!.GetValue<string>());
        Assert.Equal("assistant", assistant["role"]!.GetValue<string>());
        Assert.Equal("text", assistant["channel"]!.GetValue<string>());
        Assert.Equal("[VendorA] What is the weather like on Mars today? ...", assistant["content"]!.GetValue<string>());
        Assert.False(assistant["fallbackUsed"]!.GetValue<bool>());
        Assert.Equal(120, assistant["latencyMs"]!.GetValue<int>());

        var tokensIn = FakeProviders.TokensIn(request);
        var expectedCost = FakeProviders.Cost(FakeProviders.DefaultCatalog[0], tokensIn, FakeProviders.DefaultTokensOut);
        Assert.Equal(tokensIn, assistant["tokensIn"]!.GetValue<int>());
        Assert.Equal(expectedCost, assistant["costUsd"]!.GetValue<decimal>());
        Assert.Equal("VendorA", exchange["usage"]!["provider"]!.GetValue<string>());
        Assert.Equal(expectedCost, exchange["usage"]!["costUsd"]!.GetValue<decimal>());
        Assert.Equal(FakeProviders.DefaultTokensOut, exchange["usage"]!["tokensOut"]!.GetValue<int>());
        var attempt = Assert.Single(exchange["attempts"]!.AsArray())!;
        Assert.Equal("ok", attempt["outcome"]!.GetValue<string>());

        await _fixture.Events.WaitUntilAsync(e => e.ForSession(session).Count > 0);
        var evt = Assert.Single(_fixture.Events.ForSession(session));
        Assert.Equal(expectedCost, evt.CostUsd);
        Assert.Equal(user["id"]!.GetValue<Guid>(), evt.UserMessageId);
        Assert.Equal(assistant["id"]!.GetValue<Guid>(), evt.AssistantMessageId);
        Assert.Equal(agent, evt.AgentId);
        Assert.Equal((tokensIn, FakeProviders.DefaultTokensOut, "VendorA", "text", 120), (evt.TokensIn, evt.TokensOut, evt.Provider, evt.Channel, evt.LatencyMs));
        Assert.Equal(evt.EventId, _fixture.Events.Received.Single(r => r.Event.SessionId == session).MessageId);
    }

    [Fact]
    public async Task The_same_key_and_body_replays_the_stored_bytes_without_calling_providers()
    {
        using var replays = new MetricCollector<long>(_fixture.Factory.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            ConversationTelemetry.Name, "stitchfin.conversation.idempotency.replays");
        var tenant = _fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();

        var first = await tenant.SendMessageAsync(session, "replay-key", "Tell me a story");
        var second = await tenant.SendMessageAsync(session, "replay-key", "Tell me a story");

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.Created, second.Status);
        Assert.False(first.Replayed);
        Assert.True(second.Replayed);
        Assert.Equal(first.Body, second.Body);
        Assert.Equal(1, _fixture.Providers.Calls);
        Assert.Equal(1, replays.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(2, (await tenant.GetOkAsync($"/sessions/{session}"))["messageCount"]!.GetValue<int>());

        // The same key with another body, or for another session, is a different request.
        var different = await tenant.SendMessageAsync(session, "replay-key", "Tell me another story");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, different.Status);
        Assert.Equal("application/problem+json", different.ContentType);
        var otherSession = await tenant.CreateSessionAsync();
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await tenant.SendMessageAsync(otherSession, "replay-key", "Tell me a story")).Status);

        // Keys belong to a tenant: another tenant's identical key is its own.
        var otherTenant = _fixture.NewTenant();
        var theirs = await otherTenant.SendMessageAsync(await otherTenant.CreateSessionAsync(), "replay-key", "Tell me a story");
        Assert.Equal(HttpStatusCode.Created, theirs.Status);
        Assert.False(theirs.Replayed);
        Assert.Equal(2, _fixture.Providers.Calls);

        await _fixture.Events.WaitUntilAsync(e => e.ForSession(session).Count > 0);
        await Task.Delay(500);
        Assert.Single(_fixture.Events.ForSession(session));
    }

    [Fact]
    public async Task Twenty_five_concurrent_requests_with_one_key_make_one_provider_call()
    {
        var tenant = _fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _fixture.Providers.Reset(async (request, _) =>
        {
            await gate.Task;
            return TypedResults.Ok(FakeProviders.Result(request));
        });

        var requests = Enumerable.Range(0, 25).Select(_ => tenant.SendMessageAsync(session, "one-key-25-requests", "Same question")).ToList();
        // While the first holds the key (the fake keeps providers busy), every other request is told to come back.
        while (requests.Count(r => r.IsCompleted) < 24 && requests.All(r => !r.IsFaulted))
        {
            await Task.WhenAny(Task.WhenAll(requests), Task.Delay(50));
        }

        gate.SetResult();
        var replies = await Task.WhenAll(requests);

        var created = Assert.Single(replies, r => r.Status == HttpStatusCode.Created);
        var conflicts = replies.Where(r => r.Status == HttpStatusCode.Conflict).ToList();
        Assert.Equal(24, conflicts.Count);
        Assert.All(conflicts, c => Assert.Equal("1", c.RetryAfter));
        Assert.All(conflicts, c => Assert.Equal("application/problem+json", c.ContentType));
        Assert.Equal(1, _fixture.Providers.Calls);

        var transcript = (await tenant.GetOkAsync($"/sessions/{session}/transcript"))["messages"]!.AsArray();
        Assert.Equal(["user", "assistant"], transcript.Select(m => m!["role"]!.GetValue<string>()));

        var retry = await tenant.SendMessageAsync(session, "one-key-25-requests", "Same question");
        Assert.True(retry.Replayed);
        Assert.Equal(created.Body, retry.Body);
        Assert.Equal(1, _fixture.Providers.Calls);
    }

    [Fact]
    public async Task Bad_keys_and_bodies_are_400_and_reach_no_provider()
    {
        var tenant = _fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();

        await AssertValidationProblem(tenant.SendMessageAsync(session, null, "hi"), "idempotencyKey");
        await AssertValidationProblem(tenant.SendMessageAsync(session, "", "hi"), "idempotencyKey");
        await AssertValidationProblem(tenant.SendMessageAsync(session, new string('k', 256), "hi"), "idempotencyKey");
        await AssertValidationProblem(tenant.SendMessageAsync(session, "bell\u0007", "hi"), "idempotencyKey");
        await AssertValidationProblem(tenant.SendMessageAsync(session, Guid.NewGuid().ToString(), ""), "content");
        await AssertValidationProblem(tenant.SendMessageAsync(session, Guid.NewGuid().ToString(), new string('c', 16001)), "content");
        await AssertValidationProblem(tenant.SendAsync(HttpMethod.Post, $"/sessions/{session}/messages", "{}", Guid.NewGuid().ToString()), "content");
        var notJson = await tenant.SendAsync(HttpMethod.Post, $"/sessions/{session}/messages", "{content:", Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.BadRequest, notJson.Status);
        Assert.Equal(0, _fixture.Providers.Calls);

        Assert.Equal(HttpStatusCode.Created, (await tenant.SendMessageAsync(session, new string('k', 255), new string('c', 16000))).Status);
        Assert.Equal(1, _fixture.Providers.Calls);
    }

    [Fact]
    public async Task When_every_provider_attempt_fails_nothing_is_kept_and_the_key_can_be_retried()
    {
        var tenant = _fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();
        ProviderAttempt[] attempts =
        [
            new("VendorA", AttemptOutcomes.Error, 500, 80),
            new("VendorA", AttemptOutcomes.Timeout, null, 2000),
            new("VendorB", AttemptOutcomes.RateLimited, 429, 120),
        ];
        _fixture.Providers.Reset(FakeProviders.FailEveryAttempt(attempts));

        var failed = await tenant.SendMessageAsync(session, "retry-me", "Will this work?");

        Assert.Equal(HttpStatusCode.BadGateway, failed.Status);
        Assert.Equal("application/problem+json", failed.ContentType);
        var reported = failed.Json["attempts"]!.AsArray();
        Assert.Equal(["VendorA", "VendorA", "VendorB"], reported.Select(a => a!["provider"]!.GetValue<string>()));
        Assert.Equal(["error", "timeout", "rate_limited"], reported.Select(a => a!["outcome"]!.GetValue<string>()));
        Assert.Equal([500, (int?)null, 429], reported.Select(a => a!["status"]?.GetValue<int>()));
        Assert.Empty((await tenant.GetOkAsync($"/sessions/{session}/transcript"))["messages"]!.AsArray());
        Assert.Equal(0, (await tenant.GetOkAsync($"/sessions/{session}"))["messageCount"]!.GetValue<int>());
        Assert.Equal(0, await _fixture.WithDbAsync(db => db.IdempotencyRecords.CountAsync(r => r.Key == "retry-me")));

        // The released key works once providers recover, and only that success is announced.
        _fixture.Providers.Reset();
        var retried = await tenant.SendMessageAsync(session, "retry-me", "Will this work?");
        Assert.Equal(HttpStatusCode.Created, retried.Status);
        Assert.False(retried.Replayed);
        Assert.Equal(2, (await tenant.GetOkAsync($"/sessions/{session}"))["messageCount"]!.GetValue<int>());
        await _fixture.Events.WaitUntilAsync(e => e.ForSession(session).Count > 0);
        await Task.Delay(500);
        var evt = Assert.Single(_fixture.Events.ForSession(session));
        Assert.Equal(retried.Json["assistantMessage"]!["id"]!.GetValue<Guid>(), evt.AssistantMessageId);
    }

    [Theory]
    [InlineData("abort")]
    [InlineData("timeout")]
    [InlineData("unexpected-status")]
    public async Task When_providers_cannot_be_used_the_answer_is_503_and_nothing_is_kept(string failure)
    {
        var tenant = _fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();
        _fixture.Providers.Reset(async (_, context) =>
        {
            switch (failure)
            {
                case "abort":
                    context.Abort();
                    return TypedResults.Empty;
                case "timeout":
                    // Longer than the client's 5 s timeout; the client hangs up first and the delay is cancelled.
                    await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
                    return TypedResults.Empty;
                default:
                    return TypedResults.StatusCode(StatusCodes.Status500InternalServerError);
            }
        });

        var reply = await tenant.SendMessageAsync(session, $"unavailable-{failure}", "Anyone there?");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, reply.Status);
        Assert.Equal("application/problem+json", reply.ContentType);
        Assert.Empty(reply.Json["attempts"]!.AsArray());
        Assert.Equal(0, (await tenant.GetOkAsync($"/sessions/{session}"))["messageCount"]!.GetValue<int>());

        _fixture.Providers.Reset();
        Assert.Equal(HttpStatusCode.Created, (await tenant.SendMessageAsync(session, $"unavailable-{failure}", "Anyone there?")).Status);
    }

    [Fact]
    public async Task The_internal_endpoint_shares_the_exchange_and_compares_voice_by_fingerprint()
    {
        var tenant = _fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();
        var path = $"/internal/sessions/{session}/messages";

        var first = await tenant.SendAsync(HttpMethod.Post, path, new { content = "transcribed words", channel = "voice", requestFingerprint = "audio-sha-1" }, "voice-key");
        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal("voice", first.Json["userMessage"]!["channel"]!.GetValue<string>());
        Assert.Equal("voice", first.Json["assistantMessage"]!["channel"]!.GetValue<string>());

        // Speech-to-text may word the same audio differently; the fingerprint decides what "the same" is.
        var again = await tenant.SendAsync(HttpMethod.Post, path, new { content = "transcribed word", channel = "voice", requestFingerprint = "audio-sha-1" }, "voice-key");
        Assert.True(again.Replayed);
        Assert.Equal(first.Body, again.Body);
        var otherAudio = await tenant.SendAsync(HttpMethod.Post, path, new { content = "transcribed words", channel = "voice", requestFingerprint = "audio-sha-2" }, "voice-key");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherAudio.Status);
        Assert.Equal(1, _fixture.Providers.Calls);

        await AssertValidationProblem(tenant.SendAsync(HttpMethod.Post, path, new { content = "hi", channel = "fax" }, "voice-key-2"), "channel");
        await AssertValidationProblem(tenant.SendAsync(HttpMethod.Post, path, new { content = "hi", channel = "voice" }), "idempotencyKey");

        await _fixture.Events.WaitUntilAsync(e => e.ForSession(session).Count > 0);
        Assert.Equal("voice", Assert.Single(_fixture.Events.ForSession(session)).Channel);
        var transcript = (await tenant.GetOkAsync($"/sessions/{session}/transcript"))["messages"]!.AsArray();
        Assert.All(transcript, m => Assert.Equal("voice", m!["channel"]!.GetValue<string>()));
    }

    private static async Task AssertValidationProblem(Task<Reply> send, string field)
    {
        var reply = await send;
        Assert.True(reply.Status == HttpStatusCode.BadRequest, $"{(int)reply.Status} {reply.Text}");
        Assert.Equal("application/problem+json", reply.ContentType);
        Assert.True(reply.Json["errors"]!.AsObject().ContainsKey(field), reply.Text);
    }
}
