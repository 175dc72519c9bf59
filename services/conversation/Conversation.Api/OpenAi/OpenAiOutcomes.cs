using System.Globalization;
using StitchFin.Conversation.Idempotency;
using StitchFin.Conversation.Messages;

namespace StitchFin.Conversation.OpenAi;

/// <summary>An exchange that did not answer, as the OpenAI APIs (chat completions and responses) report it.</summary>
public static class OpenAiOutcomes
{
    public static OpenAiError Error(ExchangeOutcome outcome, string model, IdempotencyOptions options)
    {
        switch (outcome)
        {
            case ExchangeOutcome.SessionNotFound or ExchangeOutcome.AgentDeleted:
                return OpenAiError.ModelNotFound(model);
            case ExchangeOutcome.KeyReused:
                return new OpenAiError(StatusCodes.Status422UnprocessableEntity,
                    $"This {IdempotencyKey.HeaderName} was already used for a different request.", OpenAiError.InvalidRequest, null, "idempotency_key_reused");
            case ExchangeOutcome.InProgress:
                return new OpenAiError(StatusCodes.Status409Conflict,
                    $"A request with this {IdempotencyKey.HeaderName} is still being processed; retry after a moment to get its answer.",
                    OpenAiError.InvalidRequest, null, "request_in_progress",
                    Math.Max(1, (int)Math.Ceiling(options.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture));
            case ExchangeOutcome.ProvidersFailed failed:
                return new OpenAiError(StatusCodes.Status502BadGateway,
                    $"Every provider attempt failed ({failed.Attempts.Count} attempts); nothing was charged and the request may be retried.",
                    OpenAiError.ServerError, null, "providers_failed");
            case ExchangeOutcome.ProviderRejected rejected:
                var error = rejected.Failure.UpstreamError;
                return new OpenAiError(ProviderRefusal.Status(rejected.Failure), ProviderRefusal.Message(rejected.Failure),
                    error?.Type ?? OpenAiError.InvalidRequest, error?.Param, error?.Code ?? "provider_rejected");
            case ExchangeOutcome.ProviderNotConfigured notConfigured:
                return new OpenAiError(StatusCodes.Status409Conflict,
                    $"The agent's provider or model is not configured any more: {notConfigured.Detail} Update the agent.",
                    OpenAiError.InvalidRequest, "model", "provider_not_configured");
            case ExchangeOutcome.ProvidersUnavailable unavailable:
                return new OpenAiError(StatusCodes.Status503ServiceUnavailable,
                    $"{unavailable.Detail} Nothing was charged and the request may be retried.", OpenAiError.ServerError, null, "providers_unavailable", "1");
            default:
                throw new InvalidOperationException($"Unhandled exchange outcome {outcome.GetType().Name}.");
        }
    }
}
