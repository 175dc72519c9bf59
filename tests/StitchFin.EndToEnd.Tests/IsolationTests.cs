using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace StitchFin.EndToEnd.Tests;

/// <summary>Tenant B tries every route of API.md on tenant A's ids: each answers 404 or an empty list.</summary>
[Collection(SystemCollection.Name)]
public sealed class IsolationTests(StitchFinSystem system)
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static Scenario? _scenario;

    public sealed record Scenario(Tenant Owner, Tenant Other, Guid AgentId, Guid SessionId, Guid KeyId);

    public static TheoryData<string> Routes =>
    [
        "GET /agents/{agent}", "PUT /agents/{agent}", "DELETE /agents/{agent}",
        "POST /sessions", "GET /sessions/{session}", "GET /sessions/{session}/transcript",
        "POST /sessions/{session}/messages", "POST /sessions/{session}/voice", "DELETE /keys/{key}",
    ];

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Another_tenants_ids_answer_404(string route)
    {
        var s = await ScenarioAsync();
        var (method, template) = (route.Split(' ')[0], route.Split(' ')[1]);
        var path = template.Replace("{agent}", s.AgentId.ToString()).Replace("{session}", s.SessionId.ToString()).Replace("{key}", s.KeyId.ToString());
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Content = route switch
        {
            "PUT /agents/{agent}" => JsonContent.Create(new { name = "Stolen", primaryProvider = "VendorA", fallbackProvider = (string?)null, systemPrompt = "" }),
            "POST /sessions" => JsonContent.Create(new { agentId = s.AgentId }),
            "POST /sessions/{session}/messages" => JsonContent.Create(new { content = "hello" }),
            "POST /sessions/{session}/voice" => new ByteArrayContent(Wav.Sine(TimeSpan.FromSeconds(1))) { Headers = { ContentType = new("audio/wav") } },
            _ => null,
        };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        using var response = await s.Other.Client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{route}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);

        // The owner still has everything, unchanged.
        await s.Owner.ExpectAsync(HttpMethod.Get, $"/agents/{s.AgentId}", HttpStatusCode.OK);
        var transcript = await s.Owner.ExpectAsync(HttpMethod.Get, $"/sessions/{s.SessionId}/transcript", HttpStatusCode.OK);
        Assert.Equal(2, transcript["messages"]!.AsArray().Count);
    }

    [Theory]
    [InlineData("/agents")]
    [InlineData("/sessions")]
    [InlineData("/keys")]
    public async Task Lists_show_only_the_callers_own(string path)
    {
        var s = await ScenarioAsync();
        var list = await s.Other.ExpectAsync(HttpMethod.Get, path, HttpStatusCode.OK);
        var ids = list.AsArray().Select(item => item!["id"]!.GetValue<Guid>()).ToList();
        Assert.DoesNotContain(s.AgentId, ids);
        Assert.DoesNotContain(s.SessionId, ids);
        Assert.DoesNotContain(s.KeyId, ids);
    }

    [Fact]
    public async Task Sessions_filtered_by_another_tenants_agent_are_empty_or_404()
    {
        var s = await ScenarioAsync();
        using var response = await s.Other.Client.GetAsync($"/sessions?agentId={s.AgentId}");
        if (response.StatusCode != HttpStatusCode.NotFound)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Empty(JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray());
        }
    }

    [Fact]
    public async Task Usage_and_me_are_the_callers_own()
    {
        var s = await ScenarioAsync();
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var usage = await s.Other.ExpectAsync(HttpMethod.Get, $"/usage?from={today.AddDays(-2):yyyy-MM-dd}&to={today.AddDays(1):yyyy-MM-dd}", HttpStatusCode.OK);
        Assert.Equal(s.Other.Id, usage["tenantId"]!.GetValue<Guid>());
        Assert.Equal(0, usage["totals"]!["messages"]!.GetValue<int>());
        Assert.Empty(usage["byAgent"]!.AsArray());
        var me = await s.Other.ExpectAsync(HttpMethod.Get, "/tenants/me", HttpStatusCode.OK);
        Assert.Equal(s.Other.Id, me["id"]!.GetValue<Guid>());
    }

    private async Task<Scenario> ScenarioAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_scenario is null)
            {
                var owner = await Tenant.CreateAsync(system, "Owner");
                var other = await Tenant.CreateAsync(system, "Other");
                var agent = (await owner.CreateAgentAsync())["id"]!.GetValue<Guid>();
                var session = (await owner.CreateSessionAsync(agent))["id"]!.GetValue<Guid>();
                await owner.SendMessageAsync(session, "Hello from the owner");
                var key = (await owner.ExpectAsync(HttpMethod.Post, "/keys", HttpStatusCode.Created, new { name = "owner-ci" }))["id"]!.GetValue<Guid>();
                _scenario = new Scenario(owner, other, agent, session, key);
            }

            return _scenario;
        }
        finally
        {
            Gate.Release();
        }
    }
}
