using StitchFin.Contracts.Providers;

namespace StitchFin.Conversation.Messages;

/// <summary>How an upstream's refusal of a request reaches the client: its status and its words, unchanged in meaning.</summary>
public static class ProviderRefusal
{
    /// <summary>
    /// The upstream's own status, except those that concern the gateway's account with the provider (its key, its
    /// billing, its permissions): passed on, a client would take them for a problem with its own key, so they are 502.
    /// </summary>
    public static int Status(CompletionFailed failure) => failure.UpstreamStatus switch
    {
        StatusCodes.Status401Unauthorized or StatusCodes.Status402PaymentRequired or StatusCodes.Status403Forbidden
            or StatusCodes.Status407ProxyAuthenticationRequired => StatusCodes.Status502BadGateway,
        >= 400 and < 500 and var status => status,
        _ => StatusCodes.Status502BadGateway,
    };

    public static string Message(CompletionFailed failure) =>
        failure.UpstreamError?.Message is { Length: > 0 } message
            ? $"The provider refused the request: {message} Nothing was charged."
            : "The provider refused the request. Nothing was charged.";
}
