using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace StitchFin.Testing;

/// <summary>A tenant created through the edge, with helpers for the calls most tests make.</summary>
public sealed class Tenant(StitchFinSystem system, Guid id, string apiKey)
{
    private static readonly TimeZoneInfo Chicago = TimeZoneInfo.FindSystemTimeZoneById("America/Chicago");

    public Guid Id { get; } = id;

    public string ApiKey { get; } = apiKey;

    public HttpClient Client { get; } = system.CreateClient(apiKey);

    public static async Task<Tenant> CreateAsync(StitchFinSystem system, string name = "Acme")
    {
        using var admin = system.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/tenants") { Content = JsonContent.Create(new { name }) };
        request.Headers.Add("X-Admin-Key", StitchFinSystem.AdminKey);
        using var response = await admin.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /tenants: {(int)response.StatusCode} {body}");
        var json = JsonNode.Parse(body)!;
        return new Tenant(system, json["id"]!.GetValue<Guid>(), json["apiKey"]!.GetValue<string>());
    }

    public async Task<JsonNode> CreateAgentAsync(string primary = "VendorA", string? fallback = "VendorB", string name = "Helper") =>
        await ExpectAsync(HttpMethod.Post, "/agents", HttpStatusCode.Created,
            new { name, primaryProvider = primary, fallbackProvider = fallback, systemPrompt = "You are helpful." });

    public async Task<JsonNode> CreateSessionAsync(Guid agentId) =>
        await ExpectAsync(HttpMethod.Post, "/sessions", HttpStatusCode.Created, new { agentId });

    public async Task<JsonNode> SendMessageAsync(Guid sessionId, string content, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/sessions/{sessionId}/messages") { Content = JsonContent.Create(new { content }) };
        request.Headers.Add("Idempotency-Key", idempotencyKey ?? Guid.NewGuid().ToString());
        using var response = await Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST messages: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>Polls this tenant's usage around today until it counts <paramref name="messages"/> or the wait is over.</summary>
    public async Task<JsonNode> WaitForUsageAsync(int messages, TimeSpan wait)
    {
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, Chicago).DateTime);
        var path = $"/usage?from={today.AddDays(-1):yyyy-MM-dd}&to={today.AddDays(1):yyyy-MM-dd}";
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            var usage = await ExpectAsync(HttpMethod.Get, path, HttpStatusCode.OK);
            var counted = usage["totals"]!["messages"]!.GetValue<int>();
            if (counted >= messages || DateTime.UtcNow > deadline)
            {
                // A moment more, so a double count that is still on its way would show.
                await Task.Delay(500);
                return await ExpectAsync(HttpMethod.Get, path, HttpStatusCode.OK);
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Every message of a session's transcript, oldest first, following its pages to the end.</summary>
    public async Task<IReadOnlyList<JsonNode>> WholeTranscriptAsync(Guid sessionId)
    {
        var messages = new List<JsonNode>();
        var path = $"/sessions/{sessionId}/transcript?limit=200";
        while (true)
        {
            var page = await ExpectAsync(HttpMethod.Get, path, HttpStatusCode.OK);
            messages.AddRange(page["messages"]!.AsArray().Select(m => m!.DeepClone()));
            if (!page["hasMore"]!.GetValue<bool>())
            {
                return messages;
            }

            path = $"/sessions/{sessionId}/transcript?limit=200&after={messages[^1]["id"]!.GetValue<Guid>()}";
        }
    }

    public async Task<JsonNode> ExpectAsync(HttpMethod method, string path, HttpStatusCode expected, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode} {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }
}
