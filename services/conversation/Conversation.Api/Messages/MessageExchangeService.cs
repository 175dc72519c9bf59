using System.Diagnostics;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using StitchFin.Contracts.Conversation;
using StitchFin.Contracts.Providers;
using StitchFin.Conversation.Completions;
using StitchFin.Conversation.Data;
using StitchFin.Conversation.Idempotency;
using StitchFin.Conversation.Pricing;
using StitchFin.Conversation.Sessions;
using StitchFin.ServiceDefaults.Data;
using StitchFin.ServiceDefaults.Outbox;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Conversation.Messages;

/// <summary>
/// The one implementation behind the public and the internal message endpoints: claim the idempotency key, ask
/// providers for the reply, then store both messages, the session counters, the response and the
/// <see cref="MessageCompleted"/> event in one transaction.
/// </summary>
public sealed partial class MessageExchangeService(
    ConversationDbContext db,
    IdempotencyStore idempotency,
    ProvidersClient providers,
    PriceList prices,
    OutboxSignal outbox,
    TimeProvider time,
    ConversationTelemetry telemetry,
    ILogger<MessageExchangeService> logger)
{
    public async Task<ExchangeOutcome> ExchangeAsync(Guid tenantId, Guid sessionId, string key, MessageInput input, CancellationToken cancellationToken)
    {
        using var activity = ConversationTelemetry.Source.StartActivity("message exchange");
        activity?.SetTag("stitchfin.tenant_id", tenantId);
        activity?.SetTag("stitchfin.session_id", sessionId);
        activity?.SetTag("stitchfin.channel", input.Channel);

        var outcome = await ExchangeCoreAsync(tenantId, sessionId, key, input, cancellationToken);
        var name = outcome switch
        {
            ExchangeOutcome.Answered { Replayed: true } => "replayed",
            ExchangeOutcome.Answered => "completed",
            ExchangeOutcome.SessionNotFound => "session_not_found",
            ExchangeOutcome.AgentDeleted => "agent_deleted",
            ExchangeOutcome.KeyReused => "key_reused",
            ExchangeOutcome.InProgress => "in_progress",
            ExchangeOutcome.ProvidersFailed => "providers_failed",
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
            case ExchangeOutcome.ProvidersFailed or ExchangeOutcome.ProvidersUnavailable:
                activity?.SetStatus(ActivityStatusCode.Error, name);
                break;
        }

        return outcome;
    }

    private async Task<ExchangeOutcome> ExchangeCoreAsync(Guid tenantId, Guid sessionId, string key, MessageInput input, CancellationToken cancellationToken)
    {
        var requestHash = input.Hash(sessionId);
        var newClaim = idempotency.NewClaim();
        var (target, claimed) = await db.WithConnectionAsync(
            (tenantId, sessionId, key, requestHash, newClaim),
            static (connection, state, ct) => ExchangeStartSql.RunAsync(connection, state.tenantId, state.sessionId, state.key, state.requestHash, state.newClaim, ct),
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
        try
        {
            // From here on the work finishes even if the caller goes away, so that its retry finds the answer.
            var outcome = await RunClaimedAsync(tenantId, key, token, target, input);
            if (outcome is not ExchangeOutcome.Answered)
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

    private async Task<ExchangeOutcome> RunClaimedAsync(Guid tenantId, string key, Guid token, ExchangeTarget target, MessageInput input)
    {
        if (target.AgentDeleted)
        {
            return new ExchangeOutcome.AgentDeleted();
        }

        var userAt = time.GetUtcNowMicroseconds();
        var request = new CompletionRequest(target.PrimaryProvider, target.FallbackProvider, target.SystemPrompt, input.Content);
        switch (await providers.CompleteAsync(request, CancellationToken.None))
        {
            case CompletionOutcome.AllAttemptsFailed failed:
                LogProvidersFailed(target.SessionId, failed.Attempts.Count);
                return new ExchangeOutcome.ProvidersFailed(failed.Detail, failed.Attempts);
            case CompletionOutcome.ProvidersUnavailable unavailable:
                LogProvidersUnavailable(target.SessionId, unavailable.Detail);
                return new ExchangeOutcome.ProvidersUnavailable(unavailable.Detail);
            case CompletionOutcome.Succeeded succeeded:
                var body = await StoreExchangeAsync(tenantId, key, token, target, input, userAt, succeeded.Result);
                return body is null ? new ExchangeOutcome.InProgress() : new ExchangeOutcome.Answered(StatusCodes.Status201Created, body, Replayed: false);
            default:
                throw new UnreachableException();
        }
    }

    /// <returns>The serialized response, or null when the claim was taken over while providers was answering.</returns>
    private async Task<byte[]?> StoreExchangeAsync(
        Guid tenantId, string key, Guid token, ExchangeTarget target, MessageInput input, DateTimeOffset userAt, CompletionResult result)
    {
        var cost = prices.CostUsd(result.Provider, result.TokensIn, result.TokensOut);
        var assistantAt = time.GetUtcNowMicroseconds();
        var user = new SessionMessage
        {
            Id = Guid.CreateVersion7(userAt),
            TenantId = tenantId,
            SessionId = target.SessionId,
            Role = SessionMessage.UserRole,
            Content = input.Content,
            Channel = input.Channel,
            CreatedAt = userAt,
        };
        var assistant = new SessionMessage
        {
            Id = Guid.CreateVersion7(assistantAt),
            TenantId = tenantId,
            SessionId = target.SessionId,
            Role = SessionMessage.AssistantRole,
            Content = result.Text,
            Channel = input.Channel,
            CreatedAt = assistantAt,
            Provider = result.Provider,
            FallbackUsed = result.FallbackUsed,
            TokensIn = result.TokensIn,
            TokensOut = result.TokensOut,
            CostUsd = cost,
            LatencyMs = result.LatencyMs,
        };
        var body = JsonSerializer.SerializeToUtf8Bytes(
            new MessageExchange(
                user.ToTranscriptMessage(),
                assistant.ToTranscriptMessage(),
                new MessageUsage(result.Provider, result.TokensIn, result.TokensOut, cost),
                result.Attempts),
            JsonDefaults.JsonOptions);
        var eventId = Guid.CreateVersion7(assistantAt);
        var outboxMessage = OutboxModel.For(eventId, new MessageCompleted(
            eventId, tenantId, target.AgentId, target.SessionId, user.Id, assistant.Id, result.Provider, result.FallbackUsed,
            result.TokensIn, result.TokensOut, cost, result.LatencyMs, input.Channel, assistantAt), assistantAt);
        var completion = idempotency.Completion(tenantId, key, token, StatusCodes.Status201Created, body);

        var stored = await db.WithConnectionAsync(
            (completion, user, assistant, outboxMessage),
            static async (connection, state, ct) =>
            {
                await using var command = StoreExchangeSql.Command(connection, state.completion, state.user, state.assistant, state.outboxMessage);
                return await command.ExecuteNonQueryAsync(ct) == 1;
            },
            CancellationToken.None);
        if (!stored)
        {
            // Either an earlier try of this very statement committed before its connection broke, or the lease ran
            // out and another request owns the key now; in both cases nothing more may be written.
            return await idempotency.CompletedBodyAsync(tenantId, key, token, CancellationToken.None);
        }

        outbox.Notify();
        return body;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Every provider attempt failed for session {SessionId} ({Attempts} attempts); the key is released")]
    private partial void LogProvidersFailed(Guid sessionId, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Providers unavailable for session {SessionId}: {Reason}; the key is released")]
    private partial void LogProvidersUnavailable(Guid sessionId, string reason);
}
