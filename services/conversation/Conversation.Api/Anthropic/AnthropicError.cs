using StitchFin.Conversation.Translation;

namespace StitchFin.Conversation.Anthropic;

/// <summary>
/// An error in Anthropic's shape, <c>{"type":"error","error":{"type","message"}}</c> with <c>application/json</c>, which
/// Anthropic clients parse. <paramref name="shouldRetry"/> sets <c>x-should-retry</c>, which Anthropic's SDKs obey over
/// their own rule (they retry every 409 and 5xx).
/// </summary>
public sealed class AnthropicError(int status, string type, string message, string? retryAfter = null, bool? shouldRetry = null)
    : IResult, IStatusCodeHttpResult
{
    public const string ShouldRetryHeader = "x-should-retry";

    public int? StatusCode => status;

    public string Type => type;

    public string Message => message;

    public static AnthropicError BadRequest(string message) =>
        new(StatusCodes.Status400BadRequest, AnthropicMessages.ErrorTypes.InvalidRequest, message);

    public static AnthropicError ModelNotFound(string model) =>
        new(StatusCodes.Status404NotFound, AnthropicMessages.ErrorTypes.NotFound,
            $"model: '{model}' is not one of your agents (name the agent by its exact name or its id; GET /v1/models lists them).");

    /// <summary>The error for a status, typed as Anthropic types it.</summary>
    public static AnthropicError ForStatus(int status, string message, string? retryAfter = null, bool? shouldRetry = null) =>
        new(status, AnthropicMessages.ErrorType(status), message, retryAfter, shouldRetry);

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        if (retryAfter is not null)
        {
            response.Headers.RetryAfter = retryAfter;
        }

        if (shouldRetry is { } retry)
        {
            response.Headers[ShouldRetryHeader] = retry ? "true" : "false";
        }

        var body = AnthropicMessages.Error(type, message);
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, httpContext.RequestAborted);
    }
}
