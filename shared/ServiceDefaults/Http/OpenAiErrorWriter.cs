using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;

namespace StitchFin.ServiceDefaults.Http;

/// <summary>
/// Under <c>/v1</c> (the OpenAI-compatible API) every error written as a problem (the edge's 401, 429, 404, 413,
/// 502, ...; a service's 503 while its database is away) takes OpenAI's shape
/// <c>{"error":{"message","type","param","code"}}</c>, which OpenAI SDKs read; elsewhere problem+json stays, and
/// Anthropic's Messages API under <c>/v1/messages</c> has its own shape (<see cref="AnthropicErrorWriter"/>). Headers
/// set before writing (<c>Retry-After</c>, <c>WWW-Authenticate</c>) are kept; a problem of one of
/// <see cref="ProblemTypes"/> gives its own <c>code</c> (the edge's <c>service_unreachable</c>, ...).
/// </summary>
public sealed class OpenAiErrorWriter : IProblemDetailsWriter
{
    public static readonly PathString Prefix = "/v1";

    public bool CanWrite(ProblemDetailsContext context) =>
        context.HttpContext.Request.Path.StartsWithSegments(Prefix) && !AnthropicErrorWriter.Applies(context.HttpContext);

    public async ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var status = context.ProblemDetails.Status ?? http.Response.StatusCode;
        var (type, code) = Classify(status);
        // A problem of the gateway's own type names its code; otherwise the status does.
        code = ProblemTypes.CodeOf(context.ProblemDetails.Type) ?? code;
        var message = context.ProblemDetails.Detail ?? status switch
        {
            StatusCodes.Status404NotFound => $"Invalid URL ({http.Request.Method} {http.Request.GetEncodedPathAndQuery()}).",
            StatusCodes.Status405MethodNotAllowed => $"{http.Request.Method} is not allowed on {http.Request.Path}.",
            _ => context.ProblemDetails.Title ?? "The request failed.",
        };

        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new Utf8JsonWriter(http.Response.Body);
        json.WriteStartObject();
        json.WriteStartObject("error");
        json.WriteString("message", message);
        json.WriteString("type", type);
        json.WriteNull("param");
        json.WriteString("code", code);
        json.WriteEndObject();
        json.WriteEndObject();
        await json.FlushAsync(http.RequestAborted);
    }

    /// <summary>OpenAI's error type and code for a status the edge answers (OpenAI's own choices where it has them).</summary>
    public static (string Type, string Code) Classify(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => ("invalid_request_error", "invalid_api_key"),
        StatusCodes.Status403Forbidden => ("invalid_request_error", "permission_denied"),
        StatusCodes.Status404NotFound => ("invalid_request_error", "unknown_url"),
        StatusCodes.Status405MethodNotAllowed => ("invalid_request_error", "method_not_allowed"),
        StatusCodes.Status413PayloadTooLarge => ("invalid_request_error", "request_too_large"),
        StatusCodes.Status429TooManyRequests => ("requests", "rate_limit_exceeded"),
        StatusCodes.Status502BadGateway => ("server_error", "bad_gateway"),
        StatusCodes.Status503ServiceUnavailable => ("server_error", "service_unavailable"),
        StatusCodes.Status504GatewayTimeout => ("server_error", "gateway_timeout"),
        >= 500 => ("server_error", "internal_error"),
        _ => ("invalid_request_error", "invalid_request"),
    };
}
