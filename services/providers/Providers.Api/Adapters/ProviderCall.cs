using StitchFin.Contracts.Providers;

namespace StitchFin.Providers.Adapters;

public sealed record NormalizedRequest(string SystemPrompt, string UserContent, Guid TenantId, string RequestId);

public sealed record NormalizedResponse(string Provider, string Text, int TokensIn, int TokensOut, int LatencyMs);

/// <summary>The outcome of one vendor call, in the vocabulary of <see cref="AttemptOutcomes"/>.</summary>
public sealed record ProviderCallResult(string Outcome, int? Status, NormalizedResponse? Response, TimeSpan? RetryAfter, bool Retryable)
{
    public bool Succeeded => Response is not null;

    public static ProviderCallResult Success(NormalizedResponse response, int status) =>
        new(AttemptOutcomes.Ok, status, response, null, false);

    /// <summary>A fault; network failures have no status. Server faults are worth retrying, a refused request is not.</summary>
    public static ProviderCallResult Error(int? status) =>
        new(AttemptOutcomes.Error, status, null, null, status is null or >= 500 or StatusCodes.Status408RequestTimeout);

    public static ProviderCallResult RateLimited(int status, TimeSpan? retryAfter) =>
        new(AttemptOutcomes.RateLimited, status, null, retryAfter, true);
}
