using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StitchFin.Contracts.Conversation;
using StitchFin.Contracts.Providers;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.Testing;
using SharedDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Voice.Tests;

/// <summary>One call voice made to conversation's internal message path, as the fake received it.</summary>
public sealed record RecordedMessage(Guid SessionId, string? IdempotencyKey, InternalMessageRequest Body, Guid? TenantId, InternalIdentity? Identity = null);

/// <summary>
/// A small real HTTP conversation service: <c>POST /internal/sessions/{id}/messages</c> answers a
/// <see cref="MessageExchange"/> for known sessions (replaying, like conversation, the same key with the same
/// fingerprint, and 422 for a different one), a configured problem for failing sessions and 404 otherwise.
/// It verifies the propagated identity, so only voice's re-signed calls are accepted.
/// </summary>
public sealed class FakeConversation : IAsyncDisposable
{
    public const string DefaultReply = "[VendorA] User said something via voice. ...";

    private readonly WebApplication _app;
    private readonly InternalIdentitySigner _signer =
        new(Options.Create(new InternalIdentityOptions { SigningKey = TestInfrastructure.SigningKey }), TimeProvider.System, new ServiceName("conversation"));
    private readonly ConcurrentDictionary<Guid, SessionScript> _sessions = new();
    private readonly ConcurrentDictionary<(Guid Session, string Key), (string? Fingerprint, byte[] Body)> _answers = new();
    private readonly ConcurrentQueue<RecordedMessage> _received = new();

    private FakeConversation(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<FakeConversation> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var fake = new FakeConversation(builder.Build());
        fake._app.MapPost("/internal/sessions/{sessionId:guid}/messages", fake.HandleAsync);
        await fake._app.StartAsync();
        var address = fake._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        fake.BaseAddress = new Uri(address);
        return fake;
    }

    /// <summary>A session that answers with <paramref name="reply"/> as the assistant's text.</summary>
    public Guid NewSession(string reply = DefaultReply)
    {
        var id = Guid.NewGuid();
        _sessions[id] = new SessionScript(reply, null, null);
        return id;
    }

    /// <summary>A session whose every message is answered with this status and body (a problem, or garbage).</summary>
    public Guid NewFailingSession(int status, string problemJson)
    {
        var id = Guid.NewGuid();
        _sessions[id] = new SessionScript(null, status, problemJson);
        return id;
    }

    public IReadOnlyList<RecordedMessage> ReceivedFor(Guid sessionId) => _received.Where(r => r.SessionId == sessionId).ToList();

    /// <summary>The 404 problem body the fake sends for a session it does not know.</summary>
    public static string NotFoundProblem(Guid sessionId) =>
        $$"""{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.5","title":"Not Found","status":404,"detail":"Session {{sessionId}} was not found.","traceId":"fake-trace"}""";

    private async Task HandleAsync(Guid sessionId, HttpContext context)
    {
        if (!_signer.TryVerify(context.Request.Headers[InternalIdentitySigner.HeaderName], context.Request.Method, context.Request.Path.Value ?? "/", out var identity, out _))
        {
            await WriteAsync(context, StatusCodes.Status401Unauthorized, "application/problem+json",
                """{"title":"Unauthorized","status":401,"detail":"unsigned call"}"""u8.ToArray());
            return;
        }

        var body = await JsonSerializer.DeserializeAsync<InternalMessageRequest>(context.Request.Body, SharedDefaults.JsonOptions, context.RequestAborted);
        string? key = context.Request.Headers["Idempotency-Key"];
        _received.Enqueue(new RecordedMessage(sessionId, key, body!, identity!.TenantId, identity));

        if (!_sessions.TryGetValue(sessionId, out var script))
        {
            await WriteAsync(context, StatusCodes.Status404NotFound, "application/problem+json", System.Text.Encoding.UTF8.GetBytes(NotFoundProblem(sessionId)));
            return;
        }

        if (script.FailureStatus is { } failure)
        {
            if (failure is StatusCodes.Status409Conflict or StatusCodes.Status503ServiceUnavailable)
            {
                context.Response.Headers.RetryAfter = "2";
            }

            await WriteAsync(context, failure, "application/problem+json", System.Text.Encoding.UTF8.GetBytes(script.FailureProblem!));
            return;
        }

        var answer = _answers.GetOrAdd((sessionId, key ?? ""), _ => (body!.RequestFingerprint, Exchange(body!, script.Reply!)));
        if (answer.Fingerprint != body!.RequestFingerprint)
        {
            await WriteAsync(context, StatusCodes.Status422UnprocessableEntity, "application/problem+json",
                """{"title":"Idempotency key reused","status":422,"detail":"This Idempotency-Key was used with a different request."}"""u8.ToArray());
            return;
        }

        if (_received.Count(r => r.SessionId == sessionId && r.IdempotencyKey == key) > 1)
        {
            context.Response.Headers["Idempotent-Replayed"] = "true";
        }

        await WriteAsync(context, StatusCodes.Status201Created, "application/json", answer.Body);
    }

    private static byte[] Exchange(InternalMessageRequest request, string reply)
    {
        var now = DateTimeOffset.UtcNow;
        var exchange = new MessageExchange(
            new TranscriptMessage(Guid.NewGuid(), "user", request.Content, request.Channel, now),
            new TranscriptMessage(Guid.NewGuid(), "assistant", reply, request.Channel, now, ProviderNames.VendorA, false, 12, 40, 0.000276m, 120),
            new MessageUsage(ProviderNames.VendorA, 12, 40, 0.000276m),
            [new ProviderAttempt(ProviderNames.VendorA, AttemptOutcomes.Ok, 200, 120)]);
        return JsonSerializer.SerializeToUtf8Bytes(exchange, SharedDefaults.JsonOptions);
    }

    private static async Task WriteAsync(HttpContext context, int status, string contentType, byte[] body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed record SessionScript(string? Reply, int? FailureStatus, string? FailureProblem);
}
