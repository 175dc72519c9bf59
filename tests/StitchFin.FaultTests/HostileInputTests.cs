using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;

namespace StitchFin.FaultTests;

/// <summary>Hostile input through the edge: each gets its documented 4xx, never a 5xx, and nothing is stored.</summary>
[Collection(FaultCollection.Name)]
public sealed class HostileInputTests(FaultSystem fixture)
{
    private StitchFinSystem System => fixture.System;

    public sealed record Case(string Name, HttpMethod Method, string Path, Func<HttpContent?> Body, int[] Expected, string? IdempotencyKey = "default");

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static readonly Case[] Cases =
    [
        new("malformed JSON", HttpMethod.Post, "/agents", () => Json("{\"name\": \"x\", "), [400]),
        new("JSON array instead of object", HttpMethod.Post, "/agents", () => Json("[1,2,3]"), [400]),
        new("wrong type for a field", HttpMethod.Post, "/agents", () => Json("{\"name\": 42, \"primaryProvider\": \"VendorA\"}"), [400]),
        new("wrong content type", HttpMethod.Post, "/agents", () => new StringContent("name=x", Encoding.UTF8, "text/plain"), [415, 400]),
        new("form content type", HttpMethod.Post, "/agents", () => new FormUrlEncodedContent([new("name", "x")]), [415, 400]),
        new("oversized body", HttpMethod.Post, "/agents", () => Json($"{{\"name\":\"{new string('a', 2_000_000)}\"}}"), [413]),
        new("name too long", HttpMethod.Post, "/agents", () => JsonContent.Create(new { name = new string('n', 101), primaryProvider = "VendorA" }), [400]),
        new("NUL byte in name", HttpMethod.Post, "/agents", () => JsonContent.Create(new { name = "evil\0name", primaryProvider = "VendorA" }), [400]),
        new("control characters in name", HttpMethod.Post, "/agents", () => JsonContent.Create(new { name = "bell\u0007\u001b[31m", primaryProvider = "VendorA" }), [400]),
        new("unknown provider", HttpMethod.Post, "/agents", () => JsonContent.Create(new { name = "x", primaryProvider = "VendorZ'; DROP TABLE agents;--" }), [400]),
        new("fallback equals primary", HttpMethod.Post, "/agents", () => JsonContent.Create(new { name = "x", primaryProvider = "VendorA", fallbackProvider = "VendorA" }), [400]),
        new("invalid UUID in path", HttpMethod.Get, "/agents/not-a-uuid", () => null, [404, 400]),
        new("SQL in path", HttpMethod.Get, "/agents/1%27%20OR%20%271%27%3D%271", () => null, [404, 400]),
        new("encoded path traversal", HttpMethod.Get, "/agents/..%2F..%2Finternal%2Fkeys%2Fverify", () => null, [404, 400]),
        new("dot-dot traversal to internal", HttpMethod.Post, "/sessions/%2e%2e/%2e%2e/internal/keys/verify", () => Json("{}"), [404, 400, 405]),
        new("internal path", HttpMethod.Post, "/internal/keys/verify", () => Json("{\"apiKey\":\"x\"}"), [404]),
        new("vendor path", HttpMethod.Post, "/vendors/vendor-a/v1/chat/completions", () => Json("{}"), [404]),
        new("negative limit", HttpMethod.Get, "/sessions?limit=-1", () => null, [400]),
        new("huge limit", HttpMethod.Get, "/sessions?limit=99999999999999999999", () => null, [400]),
        new("invalid before", HttpMethod.Get, "/sessions?before=yesterday", () => null, [400]),
        new("SQL in agentId filter", HttpMethod.Get, "/sessions?agentId=%27%20OR%201%3D1--", () => null, [400]),
        new("invalid date", HttpMethod.Get, "/usage?from=2026-02-30&to=2026-03-01", () => null, [400]),
        new("negative year", HttpMethod.Get, "/usage?from=-2026-01-01&to=2026-01-02", () => null, [400]),
        new("session for a bad agent id", HttpMethod.Post, "/sessions", () => Json("{\"agentId\":\"not-a-guid\"}"), [400]),
        new("session for an unknown agent", HttpMethod.Post, "/sessions", () => JsonContent.Create(new { agentId = Guid.NewGuid() }), [404]),
        new("key name with NUL", HttpMethod.Post, "/keys", () => JsonContent.Create(new { name = "ci\0" }), [400]),
        new("empty key name", HttpMethod.Post, "/keys", () => JsonContent.Create(new { name = "" }), [400]),
    ];

    public static TheoryData<string> CaseNames => new(Cases.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Hostile_request_gets_a_4xx_and_stores_nothing(string name)
    {
        var tenant = await Tenant.CreateAsync(System);
        var c = Cases.Single(x => x.Name == name);
        using var request = new HttpRequestMessage(c.Method, c.Path) { Content = c.Body() };
        using var response = await tenant.Client.SendAsync(request);
        fixture.Ledger.Requests(1);
        Assert.True(c.Expected.Contains((int)response.StatusCode), $"{name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        await AssertNothingStored(tenant);
    }

    [Theory]
    [InlineData("")]
    [InlineData("key with DEL \u007f")]
    [InlineData("tab\there")]
    public async Task Bad_idempotency_keys_are_400(string key)
    {
        var (tenant, session) = await SessionAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/sessions/{session}/messages") { Content = JsonContent.Create(new { content = "hi" }) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        using var response = await tenant.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await AssertNoMessages(tenant, session);
    }

    [Fact]
    public async Task An_enormous_idempotency_key_is_rejected()
    {
        var (tenant, session) = await SessionAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/sessions/{session}/messages") { Content = JsonContent.Create(new { content = "hi" }) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", new string('k', 256));
        using var response = await tenant.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var huge = new HttpRequestMessage(HttpMethod.Post, $"/sessions/{session}/messages") { Content = JsonContent.Create(new { content = "hi" }) };
        huge.Headers.TryAddWithoutValidation("Idempotency-Key", new string('k', 40_000));
        using var hugeResponse = await tenant.Client.SendAsync(huge);
        Assert.True((int)hugeResponse.StatusCode is 400 or 431, $"{(int)hugeResponse.StatusCode}");
        await AssertNoMessages(tenant, session);
    }

    [Fact]
    public async Task Oversized_headers_are_431()
    {
        var tenant = await Tenant.CreateAsync(System);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/agents");
        request.Headers.TryAddWithoutValidation("X-Padding", new string('p', 64 * 1024));
        using var response = await tenant.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
    }

    [Theory]
    [InlineData("Robert'); DROP TABLE agents;--")]
    [InlineData("emoji \U0001F916\U0001F680 and \u00fc\u00f1\u00ee\u00e7\u00f8d\u00e9 and \u4f60\u597d")]
    [InlineData("<script>alert(1)</script>")]
    public async Task Unusual_but_valid_text_is_stored_exactly(string text)
    {
        var tenant = await Tenant.CreateAsync(System);
        var agent = await tenant.ExpectAsync(HttpMethod.Post, "/agents", HttpStatusCode.Created,
            new { name = text, primaryProvider = "VendorA", fallbackProvider = (string?)null, systemPrompt = text });
        var read = await tenant.ExpectAsync(HttpMethod.Get, $"/agents/{agent["id"]}", HttpStatusCode.OK);
        Assert.Equal(text, read["name"]!.GetValue<string>());
        var session = (await tenant.CreateSessionAsync(agent["id"]!.GetValue<Guid>()))["id"]!.GetValue<Guid>();
        var exchange = await tenant.SendMessageAsync(session, text);
        Assert.Equal(text, exchange["userMessage"]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task Replay_is_byte_identical_for_any_content()
    {
        var (tenant, session) = await SessionAsync();
        // Any printable text without surrogates, up to 200 characters: letters, symbols, CJK, quotes, JSON metacharacters.
        var contents = Gen.Char[' ', '\uD7FF'].Array[1, 200]
            .Select(chars => new string(chars))
            .Where(s => s.Trim().Length > 0 && !s.Any(char.IsControl));
        await contents.SampleAsync(async content =>
        {
            var key = Guid.NewGuid().ToString();
            var first = await SendRaw(tenant, session, key, content);
            var second = await SendRaw(tenant, session, key, content);
            return first.Status == HttpStatusCode.Created && second.Status == HttpStatusCode.Created
                && first.Body.SequenceEqual(second.Body) && second.Replayed;
        }, iter: 25, threads: 1);
    }

    private async Task<(Tenant Tenant, Guid Session)> SessionAsync()
    {
        var tenant = await Tenant.CreateAsync(System);
        var agent = (await tenant.CreateAgentAsync())["id"]!.GetValue<Guid>();
        return (tenant, (await tenant.CreateSessionAsync(agent))["id"]!.GetValue<Guid>());
    }

    private static async Task<(HttpStatusCode Status, byte[] Body, bool Replayed)> SendRaw(Tenant tenant, Guid session, string key, string content)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/sessions/{session}/messages") { Content = JsonContent.Create(new { content }) };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await tenant.Client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsByteArrayAsync(),
            response.Headers.TryGetValues("Idempotent-Replayed", out var v) && v.Single() == "true");
    }

    private static async Task AssertNothingStored(Tenant tenant)
    {
        Assert.Empty((await tenant.ExpectAsync(HttpMethod.Get, "/agents", HttpStatusCode.OK)).AsArray());
        Assert.Empty((await tenant.ExpectAsync(HttpMethod.Get, "/sessions", HttpStatusCode.OK)).AsArray());
        Assert.Single((await tenant.ExpectAsync(HttpMethod.Get, "/keys", HttpStatusCode.OK)).AsArray());
    }

    private static async Task AssertNoMessages(Tenant tenant, Guid session)
    {
        var transcript = await tenant.ExpectAsync(HttpMethod.Get, $"/sessions/{session}/transcript", HttpStatusCode.OK);
        Assert.Empty(transcript["messages"]!.AsArray());
    }
}
