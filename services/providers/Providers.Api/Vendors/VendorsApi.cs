using System.Globalization;
using System.Text;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Upstreams;
using StitchFin.ServiceDefaults.Http;
using StitchFin.ServiceDefaults.OpenAi;

namespace StitchFin.Providers.Vendors;

/// <summary>
/// The simulated vendors' HTTP APIs: OpenAI-compatible chat completions (whole or streamed), so the gateway reaches them
/// exactly as it reaches a real provider, faults included. They stand in for third-party services, so they are
/// anonymous like one; the edge never routes here.
/// </summary>
public static class VendorsApi
{
    public static RouteGroupBuilder MapVendorsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/vendors").WithTags("Simulated vendors").AllowAnonymous().WithoutAdmissionControl();
        group.MapPost("/{vendor}/v1/chat/completions", Complete);
        return group;
    }

    public static async Task<IResult> Complete(string vendor, HttpRequest request, VendorSimulators simulators, TimeProvider time, CancellationToken cancellationToken)
    {
        if (simulators.Find(vendor) is not { } simulator)
        {
            return Error(StatusCodes.Status404NotFound, $"No simulated vendor '{vendor}'.", "invalid_request_error", "not_found");
        }

        VendorRequest? parsed;
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, default, cancellationToken);
            parsed = VendorRequest.Read(document.RootElement);
        }
        catch (JsonException)
        {
            parsed = null;
        }

        if (parsed is null)
        {
            return Error(StatusCodes.Status400BadRequest, "The body must be a chat completion request with a model and a user message.", "invalid_request_error", null);
        }

        var reply = await simulator.CompleteAsync(parsed.SystemPrompt, parsed.Content, cancellationToken);
        if (reply.Completion is not { } completion)
        {
            return reply.RetryAfterMs is { } retryAfterMs
                ? new RateLimitedResult(retryAfterMs)
                : Error(reply.Status, "The vendor failed to complete the request.", "server_error", null);
        }

        var header = new ChatCompletionHeader($"chatcmpl-{Guid.NewGuid():N}", time.GetUtcNow().ToUnixTimeSeconds(), parsed.Model);
        var usage = new ChatUsage(completion.TokensIn, completion.TokensOut);
        return parsed.Stream
            ? new StreamedReply(header, completion.Text, parsed.IncludeUsage ? usage : null)
            : TypedResults.Bytes(OpenAiChatWire.Write(json => OpenAiChatWire.WriteCompletion(json, header, completion.Text, "stop", usage)), "application/json");
    }

    private static IResult Error(int status, string message, string type, string? code) =>
        TypedResults.Json(new { error = new { message, type, param = (string?)null, code } }, statusCode: status);

    /// <summary>
    /// The fields of a chat completion request the simulator uses: the first message, when it is a system message, is
    /// the system prompt; every later message is the conversation, which the simulator reads as one text.
    /// </summary>
    private sealed record VendorRequest(string Model, string SystemPrompt, string Content, bool Stream, bool IncludeUsage)
    {
        public static VendorRequest? Read(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var systemPrompt = "";
            var turns = new List<ChatTurn>();
            foreach (var message in messages.EnumerateArray())
            {
                if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("role", out var roleElement) || roleElement.ValueKind != JsonValueKind.String)
                {
                    return null;
                }

                var role = roleElement.GetString() == "developer" ? ChatRoles.System : roleElement.GetString()!;
                var text = message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String ? content.GetString()! : "";
                if (turns.Count == 0 && systemPrompt.Length == 0 && role == ChatRoles.System)
                {
                    systemPrompt = text;
                    continue;
                }

                turns.Add(new ChatTurn(role, text, ToolCalls(message)));
            }

            if (!turns.Any(t => t.Role is ChatRoles.User or ChatRoles.Tool) || turns[^1].Text.Length == 0 && turns[^1].Role == ChatRoles.User)
            {
                return null;
            }

            var stream = root.TryGetProperty("stream", out var streamElement) && streamElement.ValueKind == JsonValueKind.True;
            var includeUsage = root.TryGetProperty("stream_options", out var options) && options.ValueKind == JsonValueKind.Object
                && options.TryGetProperty("include_usage", out var include) && include.ValueKind == JsonValueKind.True;
            return new VendorRequest(model.GetString()!, systemPrompt, ConversationText.Flatten(turns), stream, includeUsage);
        }

        private static IReadOnlyList<ToolCall>? ToolCalls(JsonElement message) =>
            message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array
                ? calls.EnumerateArray().Select(call => new ToolCall(
                    call.TryGetProperty("id", out var id) ? id.GetString() ?? "" : "",
                    call.TryGetProperty("function", out var function) && function.TryGetProperty("name", out var name) ? name.GetString() ?? "" : "",
                    function.ValueKind == JsonValueKind.Object && function.TryGetProperty("arguments", out var arguments) ? arguments.GetString() ?? "" : "")).ToArray()
                : null;
    }

    /// <summary>429 with <c>retryAfterMs</c> in the body and the same wait, in whole seconds, in <c>Retry-After</c>.</summary>
    private sealed class RateLimitedResult(int retryAfterMs) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = StatusCodes.Status429TooManyRequests;
            response.ContentType = "application/json";
            response.Headers.RetryAfter = ((retryAfterMs + 999) / 1000).ToString(CultureInfo.InvariantCulture);
            var body = OpenAiChatWire.Write(json =>
            {
                json.WriteStartObject();
                json.WriteStartObject("error");
                json.WriteString("message", "Rate limit reached; retry after the time given.");
                json.WriteString("type", "rate_limit_error");
                json.WriteNull("param");
                json.WriteString("code", "rate_limit_exceeded");
                json.WriteEndObject();
                json.WriteNumber("retryAfterMs", retryAfterMs);
                json.WriteEndObject();
            });
            return response.Body.WriteAsync(body, httpContext.RequestAborted).AsTask();
        }
    }

    /// <summary>
    /// The reply as OpenAI streams it: the role, a chunk per word, the finish, usage when asked, then [DONE]. The
    /// simulated reply exists whole once its latency has passed, so its events leave together rather than a flush each.
    /// </summary>
    private sealed class StreamedReply(ChatCompletionHeader header, string text, ChatUsage? usage) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var events = new EventStream(httpContext.Response);
            var withUsage = usage is not null;
            await events.WriteAsync(null, Chunk("assistant", "", null), flush: false);
            foreach (var word in ContentDeltas.Split(text))
            {
                await events.WriteAsync(null, Chunk(null, word, null), flush: false);
            }

            await events.WriteAsync(null, Chunk(null, null, "stop"), flush: false);
            if (usage is not null)
            {
                await events.WriteAsync(null, OpenAiChatWire.Write(json => OpenAiChatWire.WriteUsageChunk(json, header, usage)), flush: false);
            }

            await events.WriteAsync(null, Encoding.UTF8.GetBytes(OpenAiChatWire.Done));

            byte[] Chunk(string? role, string? content, string? finish) =>
                OpenAiChatWire.Write(json => OpenAiChatWire.WriteChunk(json, header, role, content, finish, withUsage));
        }
    }
}
