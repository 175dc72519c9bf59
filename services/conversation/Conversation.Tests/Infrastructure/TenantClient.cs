using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StitchFin.Conversation.Tests.Infrastructure;

public sealed record Reply(HttpStatusCode Status, byte[] Body, string? ContentType, bool Replayed, string? RetryAfter)
{
    public JsonNode Json => JsonNode.Parse(Body)!;

    public string Text => Encoding.UTF8.GetString(Body);
}

/// <summary>A client signed for one fresh tenant, with the calls most tests make.</summary>
public sealed class TenantClient(HttpClient client)
{
    public HttpClient Http { get; } = client;

    public async Task<Guid> CreateAgentAsync(string primary = "VendorA", string? fallback = "VendorB", string systemPrompt = "You are helpful.", string name = "Helper")
    {
        var reply = await SendAsync(HttpMethod.Post, "/agents", new { name, primaryProvider = primary, fallbackProvider = fallback, systemPrompt });
        Assert.True(reply.Status == HttpStatusCode.Created, reply.Text);
        return reply.Json["id"]!.GetValue<Guid>();
    }

    public async Task<Guid> CreateSessionAsync(Guid agentId)
    {
        var reply = await SendAsync(HttpMethod.Post, "/sessions", new { agentId });
        Assert.True(reply.Status == HttpStatusCode.Created, reply.Text);
        return reply.Json["id"]!.GetValue<Guid>();
    }

    public async Task<Guid> CreateSessionAsync() => await CreateSessionAsync(await CreateAgentAsync());

    public Task<Reply> SendMessageAsync(Guid sessionId, string? key, string content) =>
        SendAsync(HttpMethod.Post, $"/sessions/{sessionId}/messages", new { content }, key);

    public async Task<JsonNode> SendMessageOkAsync(Guid sessionId, string content)
    {
        var reply = await SendMessageAsync(sessionId, Guid.NewGuid().ToString(), content);
        Assert.True(reply.Status == HttpStatusCode.Created, reply.Text);
        return reply.Json;
    }

    public async Task<JsonNode> GetOkAsync(string path)
    {
        var reply = await SendAsync(HttpMethod.Get, path);
        Assert.True(reply.Status == HttpStatusCode.OK, $"GET {path}: {(int)reply.Status} {reply.Text}");
        return reply.Json;
    }

    public async Task<Reply> SendAsync(HttpMethod method, string path, object? body = null, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Content = body switch
        {
            null => null,
            string json => new StringContent(json, Encoding.UTF8, "application/json"),
            _ => JsonContent.Create(body, options: new JsonSerializerOptions(JsonSerializerDefaults.Web)),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        using var response = await Http.SendAsync(request);
        return new Reply(
            response.StatusCode,
            await response.Content.ReadAsByteArrayAsync(),
            response.Content.Headers.ContentType?.MediaType,
            response.Headers.TryGetValues("Idempotent-Replayed", out var replayed) && replayed.Single() == "true",
            response.Headers.TryGetValues("Retry-After", out var retryAfter) ? retryAfter.Single() : null);
    }
}
