using System.Diagnostics;
using System.Text.Json;
using StitchFin.Contracts.Conversation;
using StitchFin.Contracts.Providers;
using StitchFin.Conversation.Completions;
using StitchFin.Conversation.Data;
using StitchFin.Conversation.Idempotency;
using StitchFin.Conversation.Sessions;
using StitchFin.ServiceDefaults.Data;
using StitchFin.ServiceDefaults.Outbox;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Conversation.Messages;

/// <summary>
/// The one implementation behind the public and the internal message endpoints and the OpenAI API: claim the
/// idempotency key, ask providers for the reply (whole, or streamed to the caller as it comes), then store both
/// messages, the session counters, the response and the <see cref="MessageCompleted"/> event in one transaction.
/// </summary>
public sealed partial class MessageExchangeService(
    ConversationDbContext db,
    IdempotencyStore idempotency,
    ClaimLeaseKeeper leases,
    ProvidersClient providers,
    OutboxSignal outbox,
    TimeProvider time,
    ConversationTelemetry telemetry,
    ILogger<MessageExchangeService> logger)
{
    /// <param name="stream">Where to stream the reply as it arrives; null for a whole reply.</param>
    /// <param name="ensureSessionForAgent">Create the session for this agent when it does not exist (the OpenAI API's own sessions).</param>
    public async Task<ExchangeOutcome> ExchangeAsync(
        Guid tenantId, Guid sessionId, string key, MessageInput input, IReplyStream? stream, CancellationToken cancellationToken, Guid? ensureSessionForAgent = null)
    {
        using var activity = ConversationTelemetry.Source.StartActivity("message exchange");
        activity?.SetTag("stitchfin.tenant_id", tenantId);
        activity?.SetTag("stitchfin.session_id", sessionId);
        activity?.SetTag("stitchfin.channel", input.Channel);
        activity?.SetTag("stitchfin.streamed", stream is not null);

        var outcome = await ExchangeCoreAsync(tenantId, sessionId, key, input, stream, ensureSessionForAgent, cancellationToken);
        var name = outcome switch
        {
            ExchangeOutcome.Answered { Replayed: true } => "replayed",
            ExchangeOutcome.Answered or ExchangeOutcome.Streamed { Body: not null } => "completed",
            ExchangeOutcome.Streamed => "stream_failed",
            ExchangeOutcome.SessionNotFound => "session_not_found",
            ExchangeOutcome.AgentDeleted => "agent_deleted",
            ExchangeOutcome.KeyReused => "key_reused",
            ExchangeOutcome.InProgress => "in_progress",
            ExchangeOutcome.ProvidersFailed => "providers_failed",
            ExchangeOutcome.ProviderRejected => "provider_rejected",
            ExchangeOutcome.ProviderNotConfigured => "provider_not_configured",
            _ => "providers_unavailable",
        };
        activity?.SetTag("stitchfin.outcome", name);
        telemetry.MessageExchanged(input.Channel, name);
        switch (outcome)
        {
            case ExchangeOutcome.Answered { Replayed: true }:
                telemetry.Replayed(input.Channel);
                break;
            case ExchangeOutcome.KeyReused or ExchangeOutcome.InProgress:
                telemetry.Conflict(name);
                break;
            case ExchangeOutcome.ProvidersFailed or ExchangeOutcome.ProvidersUnavailable or ExchangeOutcome.Streamed { Body: null }
                or ExchangeOutcome.ProviderRejected or ExchangeOutcome.ProviderNotConfigured:
                activity?.SetStatus(ActivityStatusCode.Error, name);
                break;
        }

        return outcome;
    }

    private async Task<ExchangeOutcome> ExchangeCoreAsync(
        Guid tenantId, Guid sessionId, string key, MessageInput input, IReplyStream? stream, Guid? ensureSessionForAgent, CancellationToken cancellationToken)
    {
        var requestHash = input.Hash(sessionId);
        var newClaim = idempotency.NewClaim();
        var (target, claimed) = await db.WithConnectionAsync(
            (tenantId, sessionId, key, requestHash, newClaim, ensureSessionForAgent),
            static (connection, state, ct) => ExchangeStartSql.RunAsync(
                connection, state.tenantId, state.sessionId, state.key, state.requestHash, state.newClaim, state.ensureSessionForAgent, ct),
            cancellationToken);
        if (target is null)
        {
            return new ExchangeOutcome.SessionNotFound();
        }

        // Usually the key was free and is ours now; otherwise the claim settles who holds it.
        var claim = claimed ? new ClaimResult.Claimed(newClaim.Token) : await idempotency.ClaimAsync(tenantId, key, requestHash, cancellationToken);
        switch (claim)
        {
            case ClaimResult.AlreadyCompleted stored:
                return new ExchangeOutcome.Answered(stored.Status, stored.Body, Replayed: true);
            case ClaimResult.KeyReused:
                return new ExchangeOutcome.KeyReused();
            case ClaimResult.InProgress:
                return new ExchangeOutcome.InProgress();
        }

        var token = ((ClaimResult.Claimed)claim).Token;
        using var held = leases.Hold(tenantId, key, token);
        try
        {
            // From here on the work finishes even if the caller goes away, so that its retry finds the answer.
            var outcome = await RunClaimedAsync(new Claim(tenantId, key, token), target, input, stream);
            if (outcome is not (ExchangeOutcome.Answered or ExchangeOutcome.Streamed { Body: not null }))
            {
                await idempotency.ReleaseAsync(tenantId, key, token, CancellationToken.None);
            }

            return outcome;
        }
        catch
        {
            // Releases only a claim still in flight: a committed exchange keeps its record.
            await idempotency.ReleaseAsync(tenantId, key, token, CancellationToken.None);
            throw;
        }
    }

    private async Task<ExchangeOutcome> RunClaimedAsync(Claim claim, ExchangeTarget target, MessageInput input, IReplyStream? stream)
    {
        if (target.AgentDeleted)
        {
            return new ExchangeOutcome.AgentDeleted();
        }

        var userAt = time.GetUtcNowMicroseconds();
        var request = new CompletionRequest(
            target.PrimaryProvider, target.FallbackProvider, target.SystemPrompt, input.PromptText ?? input.Content, target.PrimaryModel, target.FallbackModel,
            input.Turns, input.Tools, input.Options);
        var completion = stream is null
            ? await providers.CompleteAsync(request, CancellationToken.None)
            : await providers.StreamAsync(request, CancellationToken.None);
        switch (completion)
        {
            case CompletionOutcome.Succeeded succeeded:
                var body = await StoreExchangeAsync(claim, target, input, userAt, succeeded.Result, null);
                if (body is null)
                {
                    return new ExchangeOutcome.InProgress();
                }

                if (stream is null)
                {
                    return new ExchangeOutcome.Answered(StatusCodes.Status201Created, body, Replayed: false);
                }

                await StoredExchangeStream.WriteAsync(stream, body);
                return new ExchangeOutcome.Streamed(body);
            case CompletionOutcome.Streaming streaming:
                await using (streaming.Stream)
                {
                    return await RelayAsync(claim, target, input, userAt, streaming.Stream, stream!);
                }

            case CompletionOutcome.AllAttemptsFailed failed:
                LogProvidersFailed(target.SessionId, failed.Attempts.Count);
                return new ExchangeOutcome.ProvidersFailed(failed.Detail, failed.Attempts);
            case CompletionOutcome.Rejected rejected:
                return new ExchangeOutcome.ProviderRejected(rejected.Failure);
            case CompletionOutcome.TargetNotConfigured notConfigured:
                LogTargetNotConfigured(target.AgentId, notConfigured.Detail);
                return new ExchangeOutcome.ProviderNotConfigured(notConfigured.Detail);
            case CompletionOutcome.ProvidersUnavailable unavailable:
                LogProvidersUnavailable(target.SessionId, unavailable.Detail, unavailable.Cause);
                return new ExchangeOutcome.ProvidersUnavailable(unavailable.Detail);
            default:
                throw new UnreachableException();
        }
    }

    /// <summary>
    /// Passes each delta on as it arrives; stores the exchange once the stream completed, and only then tells the caller
    /// it is whole. A stream that fails stores nothing and ends with an in-band failure.
    /// </summary>
    private async Task<ExchangeOutcome> RelayAsync(
        Claim claim, ExchangeTarget target, MessageInput input, DateTimeOffset userAt, ProviderStream upstream, IReplyStream stream)
    {
        var assistantAt = time.GetUtcNowMicroseconds();
        var start = new ReplyStart(Guid.CreateVersion7(assistantAt), assistantAt, upstream.Start.Provider, upstream.Start.Model, upstream.Start.FallbackUsed);
        await stream.StartAsync(start);
        await foreach (var item in upstream.ReadAsync())
        {
            switch (item)
            {
                case StreamEvent.Delta delta:
                    await stream.DeltaAsync(delta.Text);
                    break;
                case StreamEvent.Completed completed:
                    var body = await StoreExchangeAsync(claim, target, input, userAt, completed.Result, start);
                    if (body is not null)
                    {
                        await stream.CompletedAsync(body);
                        return new ExchangeOutcome.Streamed(body);
                    }

                    // The claim was taken over while the stream ran: the other request owns the key now.
                    await stream.FailedAsync(new CompletionFailed(
                        "The request was taken over by a retry with the same key; this stream was not stored.", completed.Result.Attempts, CompletionFailureReasons.StreamFailed));
                    return new ExchangeOutcome.Streamed(null);
                case StreamEvent.Failed failed:
                    LogStreamFailed(target.SessionId, failed.Failure.Detail);
                    await stream.FailedAsync(failed.Failure);
                    return new ExchangeOutcome.Streamed(null);
            }
        }

        throw new UnreachableException("A provider stream always ends with completed or failed.");
    }

    /// <returns>The serialized response, or null when the claim was taken over while providers was answering.</returns>
    private async Task<byte[]?> StoreExchangeAsync(
        Claim claim, ExchangeTarget target, MessageInput input, DateTimeOffset userAt, CompletionResult result, ReplyStart? streamed)
    {
        var assistantAt = streamed?.CreatedAt ?? time.GetUtcNowMicroseconds();
        var user = new SessionMessage
        {
            Id = Guid.CreateVersion7(userAt),
            TenantId = claim.TenantId,
            SessionId = target.SessionId,
            Role = SessionMessage.UserRole,
            Content = input.Content,
            Channel = input.Channel,
            CreatedAt = userAt,
            Input = input.InputTurns is { } turns ? JsonSerializer.Serialize(turns, JsonDefaults.JsonOptions) : null,
        };
        var assistant = new SessionMessage
        {
            Id = streamed?.AssistantMessageId ?? Guid.CreateVersion7(assistantAt),
            TenantId = claim.TenantId,
            SessionId = target.SessionId,
            Role = SessionMessage.AssistantRole,
            Content = result.Text,
            Channel = input.Channel,
            CreatedAt = assistantAt,
            Provider = result.Provider,
            FallbackUsed = result.FallbackUsed,
            TokensIn = result.TokensIn,
            TokensOut = result.TokensOut,
            CostUsd = result.CostUsd,
            LatencyMs = result.LatencyMs,
            Model = result.Model,
            FinishReason = result.FinishReason,
            UsageEstimated = result.UsageEstimated,
            Attempts = JsonSerializer.Serialize(result.Attempts, JsonDefaults.JsonOptions),
            ToolCalls = result.ToolCalls is { Count: > 0 } calls ? JsonSerializer.Serialize(calls, JsonDefaults.JsonOptions) : null,
            CachedTokensIn = result.CachedTokensIn > 0 ? result.CachedTokensIn : null,
        };
        var body = JsonSerializer.SerializeToUtf8Bytes(
            new MessageExchange(
                user.ToTranscriptMessage(),
                assistant.ToTranscriptMessage(),
                new MessageUsage(result.Provider, result.TokensIn, result.TokensOut, result.CostUsd, result.Model, result.UsageEstimated, result.CachedTokensIn),
                result.Attempts),
            JsonDefaults.JsonOptions);
        var eventId = Guid.CreateVersion7(time.GetUtcNow());
        var outboxMessage = OutboxModel.For(eventId, new MessageCompleted(
            eventId, claim.TenantId, target.AgentId, target.SessionId, user.Id, assistant.Id, result.Provider, result.FallbackUsed,
            result.TokensIn, result.TokensOut, result.CostUsd, result.LatencyMs, input.Channel, assistantAt, result.Model, result.UsageEstimated), assistantAt);
        var completion = idempotency.Completion(claim.TenantId, claim.Key, claim.Token, StatusCodes.Status201Created, body);

        var stored = await db.WithConnectionAsync(
            (completion, user, assistant, outboxMessage, input.Response),
            static async (connection, state, ct) =>
            {
                await using var command = StoreExchangeSql.Command(connection, state.completion, state.user, state.assistant, state.outboxMessage, state.Response);
                return await command.ExecuteNonQueryAsync(ct) == 1;
            },
            CancellationToken.None);
        if (!stored)
        {
            // Either an earlier try of this very statement committed before its connection broke, or the lease ran
            // out and another request owns the key now; in both cases nothing more may be written.
            return await idempotency.CompletedBodyAsync(claim.TenantId, claim.Key, claim.Token, CancellationToken.None);
        }

        outbox.Notify();
        return body;
    }

    private sealed record Claim(Guid TenantId, string Key, Guid Token);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Every provider attempt failed for session {SessionId} ({Attempts} attempts); the key is released")]
    private partial void LogProvidersFailed(Guid sessionId, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Providers unavailable for session {SessionId}: {Reason} ({Cause}); the key is released")]
    private partial void LogProvidersUnavailable(Guid sessionId, string reason, string? cause);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId} names a provider or model that is not configured: {Detail}")]
    private partial void LogTargetNotConfigured(Guid agentId, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A streamed reply in session {SessionId} failed after it began: {Detail}; nothing was stored and the key is released")]
    private partial void LogStreamFailed(Guid sessionId, string? detail);
}
