using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;

namespace StitchFin.ServiceDefaults.Http;

/// <summary>
/// Under <c>/v1/messages</c> (Anthropic's Messages API) every error written as a problem (the edge's 401, 429, 404,
/// 405, 413, 502, 503, 504, ...; a service's 503 while its database is away) takes Anthropic's shape
/// <c>{"type":"error","error":{"type","message"}}</c>, which Anthropic's SDKs and Claude Code read; the rest of
/// <c>/v1</c> keeps OpenAI's shape. Headers set before writing (<c>Retry-After</c>, <c>WWW-Authenticate</c>) are kept.
/// </summary>
public sealed class AnthropicErrorWriter : IProblemDetailsWriter
{
    public static readonly PathString Prefix = "/v1/messages";

    public static bool Applies(HttpContext context) => context.Request.Path.StartsWithSegments(Prefix);

    public bool CanWrite(ProblemDetailsContext context) => Applies(context.HttpContext);

    public async ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var status = context.ProblemDetails.Status ?? http.Response.StatusCode;
        var message = context.ProblemDetails.Detail ?? status switch
        {
            StatusCodes.Status404NotFound => $"Not found: {http.Request.Method} {http.Request.GetEncodedPathAndQuery()}.",
            StatusCodes.Status405MethodNotAllowed => $"{http.Request.Method} is not allowed on {http.Request.Path}.",
            _ => context.ProblemDetails.Title ?? "The request failed.",
        };

        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new Utf8JsonWriter(http.Response.Body);
        json.WriteStartObject();
        json.WriteString("type", "error");
        json.WriteStartObject("error");
        json.WriteString("type", Classify(status));
        json.WriteString("message", message);
        json.WriteEndObject();
        json.WriteEndObject();
        await json.FlushAsync(http.RequestAborted);
    }

    /// <summary>Anthropic's error type for a status the edge answers: its own where it has one, <c>api_error</c> for other 5xx.</summary>
    public static string Classify(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => "authentication_error",
        StatusCodes.Status403Forbidden => "permission_error",
        StatusCodes.Status404NotFound => "not_found_error",
        StatusCodes.Status413PayloadTooLarge => "request_too_large",
        StatusCodes.Status429TooManyRequests => "rate_limit_error",
        StatusCodes.Status503ServiceUnavailable => "overloaded_error",
        StatusCodes.Status504GatewayTimeout => "timeout_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };
}
