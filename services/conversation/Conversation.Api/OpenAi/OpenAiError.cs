using StitchFin.ServiceDefaults.OpenAi;

namespace StitchFin.Conversation.OpenAi;

/// <summary>
/// An error in OpenAI's shape, <c>{"error":{"message","type","param","code"}}</c>, which OpenAI clients parse
/// (a problem+json body would reach their users as an unreadable failure).
/// </summary>
public sealed class OpenAiError(int status, string message, string type, string? param, string? code, string? retryAfter = null)
    : IResult, IStatusCodeHttpResult
{
    public const string InvalidRequest = "invalid_request_error";
    public const string ServerError = "server_error";

    public int? StatusCode => status;

    public string Message => message;

    public string Type => type;

    public string? Param => param;

    public string? Code => code;

    public static OpenAiError BadRequest(string message, string? param, string? code = null) =>
        new(StatusCodes.Status400BadRequest, message, InvalidRequest, param, code);

    public static OpenAiError ModelNotFound(string model) =>
        new(StatusCodes.Status404NotFound, $"The model '{model}' does not exist or you do not have access to it.", InvalidRequest, "model", "model_not_found");

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        if (retryAfter is not null)
        {
            response.Headers.RetryAfter = retryAfter;
        }

        var body = Serialize(message, type, param, code);
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, httpContext.RequestAborted);
    }

    public static byte[] Serialize(string message, string type, string? param, string? code) =>
        OpenAiChatWire.Write(json => OpenAiChatWire.WriteError(json, message, type, param, code));
}
